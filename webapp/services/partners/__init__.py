"""Partner systems: API keys with scopes, their use counted, every change audited."""
