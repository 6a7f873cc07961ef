"""Reference data: the sector taxonomy, ISO 3166 countries, ISO 4217 currencies, IANA zones."""
