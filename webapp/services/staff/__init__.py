"""Staff accounts: sign-in, server-side sessions, the second factor, the password policy."""
