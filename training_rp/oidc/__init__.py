"""OpenID Connect relying-party side: the IdP's keys, token verification and the sign-in flow."""
