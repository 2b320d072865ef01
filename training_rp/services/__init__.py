"""Rules of the training system, free of web requests: accounts, sign-in decisions, sessions."""
