"""Django's PostgreSQL backend, with integer parameters that cannot wrap around
(``base.py`` says why)."""
