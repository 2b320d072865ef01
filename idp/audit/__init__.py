"""The append-only audit log of sign-ins, verification decisions and admin actions."""
