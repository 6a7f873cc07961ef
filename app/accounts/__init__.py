"""Users, organisations, roles, API tokens, login pages and `flask user create`."""
