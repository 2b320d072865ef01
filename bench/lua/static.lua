-- The same request over and over: discovery, JWKS, introspection, userinfo, client credentials.
-- Arguments after wrk's "--": METHOD PATH [AUTHORIZATION] [FORM_BODY]; "-" leaves one out.
function init(args)
  wrk.method = args[1] or "GET"
  wrk.path = args[2] or "/"
  if args[3] and args[3] ~= "-" then
    wrk.headers["Authorization"] = args[3]
  end
  if args[4] and args[4] ~= "-" then
    wrk.body = args[4]
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
end
