"""Small pieces shared by the domain apps (not a domain itself)."""
