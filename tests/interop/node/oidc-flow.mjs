// Drives the IdP with openid-client, a client library that shares no code with the server and
// validates what it receives itself: discovery, the JWKS signature of every ID token, iss, aud,
// nonce, at_hash, exp, the RFC 9207 `iss` authorization response parameter, and the userinfo `sub`.
// Signature checks of ID tokens from the token endpoint are opt-in in openid-client (TLS would
// vouch for them), so every configuration here turns them on with enableNonRepudiationChecks.
//
// Usage: node oidc-flow.mjs <command>   with one JSON object on stdin; prints one JSON object.
//
//   authorize     {issuer, client_id, client_secret?, redirect_uri, scope, claimed_issuer?}
//                 -> {authorization_url, state, nonce, code_verifier}
//   complete      {issuer, client_id, client_secret?, callback_url, state, nonce, code_verifier,
//                  post_logout_redirect_uri, logout_state}
//                 -> one entry per step: token exchange, userinfo, refresh, revocations, end-session URL
//   discover      {issuer, client_id, discovery_base}
//                 -> {discovery: outcome} (the server reached under another name than its issuer)
//   wrong-issuer  {issuer, claimed_issuer, client_id, client_secret?, callback_url, state, nonce,
//                  code_verifier}
//                 -> {with_iss_parameter: outcome, without_iss_parameter: outcome}
//
// An outcome is {ok: true, ...} or {ok: false, error: {name, code, error, message}}: refusals are
// results the caller asserts on, so the script exits 0 whenever it ran to the end. It exits 2 with
// {fatal: ...} on bad input or an unexpected failure outside a step.

import * as client from 'openid-client'

const ID_TOKEN_CLAIMS = ['iss', 'aud', 'azp', 'sub', 'nonce', 'exp', 'iat', 'auth_time', 'sid', 'at_hash', 'amr']

function describeError(err) {
  return {
    name: err?.name ?? typeof err,
    code: err?.code ?? null,
    error: err?.error ?? null,
    status: err?.status ?? null,
    message: String(err?.message ?? err),
    cause: typeof err?.cause?.message === 'string' ? err.cause.message : null,
  }
}

async function step(fn) {
  try {
    return { ok: true, ...((await fn()) ?? {}) }
  } catch (err) {
    return { ok: false, error: describeError(err) }
  }
}

function pick(claims, names) {
  const out = {}
  for (const name of names) {
    if (claims && claims[name] !== undefined) out[name] = claims[name]
  }
  return out
}

function clientAuth(input) {
  // Confidential clients are registered with client_secret_basic, public ones with none.
  return input.client_secret ? client.ClientSecretBasic(input.client_secret) : client.None()
}

async function configure(input) {
  if (input.claimed_issuer) {
    // A client that believes the provider's issuer is `claimed_issuer` while every endpoint is the
    // real one: what a client configured with the wrong host name (or a mix-up attacker) sees.
    const real = await client.discovery(new URL(input.issuer), input.client_id, undefined, clientAuth(input), {
      execute: [client.allowInsecureRequests],
    })
    const metadata = { ...real.serverMetadata(), issuer: input.claimed_issuer }
    // Without this flag a missing `iss` parameter is accepted, so the ID token check is reached.
    delete metadata.authorization_response_iss_parameter_supported
    const config = new client.Configuration(metadata, input.client_id, undefined, clientAuth(input))
    client.allowInsecureRequests(config)
    client.enableNonRepudiationChecks(config)
    return config
  }
  // The issuer is plain http on loopback in the tests; production issuers are https.
  return client.discovery(new URL(input.issuer), input.client_id, undefined, clientAuth(input), {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  })
}

async function authorize(input) {
  const config = await configure(input)
  const code_verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: input.redirect_uri,
    scope: input.scope,
    code_challenge: await client.calculatePKCECodeChallenge(code_verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  })
  return { authorization_url: url.href, state, nonce, code_verifier }
}

async function complete(input) {
  const config = await configure(input)
  const out = {}
  let tokens
  out.token = await step(async () => {
    tokens = await client.authorizationCodeGrant(config, new URL(input.callback_url), {
      pkceCodeVerifier: input.code_verifier,
      expectedState: input.state,
      expectedNonce: input.nonce,
      idTokenExpected: true,
    })
    return {
      token_type: tokens.token_type,
      scope: tokens.scope ?? null,
      expires_in: tokens.expiresIn() ?? null,
      has_refresh_token: typeof tokens.refresh_token === 'string',
      id_token_claims: pick(tokens.claims(), ID_TOKEN_CLAIMS),
      // Filled only when the signature was checked against the provider's published keys.
      jwks_keys_used: client.getJwksCache(config)?.jwks?.keys?.length ?? 0,
    }
  })
  if (!out.token.ok) return out
  const sub = tokens.claims().sub

  out.userinfo = await step(async () => ({ claims: await client.fetchUserInfo(config, tokens.access_token, sub) }))

  let refreshed
  out.refresh = await step(async () => {
    refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
    return {
      rotated: typeof refreshed.refresh_token === 'string' && refreshed.refresh_token !== tokens.refresh_token,
      new_access_token: refreshed.access_token !== tokens.access_token,
      id_token_claims: pick(refreshed.claims(), ID_TOKEN_CLAIMS),
    }
  })
  if (!out.refresh.ok) return out

  out.userinfo_after_refresh = await step(async () => ({
    claims: await client.fetchUserInfo(config, refreshed.access_token, sub),
  }))

  out.revoke_access_token = await step(() =>
    client.tokenRevocation(config, refreshed.access_token, { token_type_hint: 'access_token' }),
  )
  out.userinfo_with_revoked_access_token = await step(async () => ({
    claims: await client.fetchUserInfo(config, refreshed.access_token, sub),
  }))

  out.revoke_refresh_token = await step(() =>
    client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' }),
  )
  out.refresh_with_revoked_token = await step(async () => {
    await client.refreshTokenGrant(config, refreshed.refresh_token)
  })

  out.end_session = await step(async () => ({
    url: client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: input.post_logout_redirect_uri,
      state: input.logout_state,
    }).href,
  }))
  return out
}

async function discover(input) {
  return {
    discovery: await step(async () => {
      const config = await client.discovery(new URL(input.discovery_base), input.client_id, undefined, client.None(), {
        execute: [client.allowInsecureRequests],
      })
      return { issuer: config.serverMetadata().issuer }
    }),
  }
}

async function wrongIssuer(input) {
  const config = await configure(input)
  const checks = {
    pkceCodeVerifier: input.code_verifier,
    expectedState: input.state,
    expectedNonce: input.nonce,
    idTokenExpected: true,
  }
  const withIss = new URL(input.callback_url)
  const withoutIss = new URL(input.callback_url)
  withoutIss.searchParams.delete('iss')
  const grant = async (url) => {
    const tokens = await client.authorizationCodeGrant(config, url, checks)
    return { id_token_claims: pick(tokens.claims(), ID_TOKEN_CLAIMS) }
  }
  // The first attempt must fail before the token request, so the code is still unused for the second.
  return {
    with_iss_parameter: await step(() => grant(withIss)),
    without_iss_parameter: await step(() => grant(withoutIss)),
  }
}

const COMMANDS = { authorize, complete, discover, 'wrong-issuer': wrongIssuer }

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

async function main() {
  const command = COMMANDS[process.argv[2]]
  if (!command) {
    throw new Error(`unknown command ${JSON.stringify(process.argv[2])}; expected one of ${Object.keys(COMMANDS).join(', ')}`)
  }
  const input = JSON.parse(await readStdin())
  if (input === null || typeof input !== 'object' || typeof input.issuer !== 'string') {
    throw new Error('stdin must be a JSON object with at least "issuer"')
  }
  process.stdout.write(JSON.stringify(await command(input)) + '\n')
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ fatal: describeError(err) }) + '\n')
  process.exitCode = 2
})
