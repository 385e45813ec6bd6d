"""One cog per feature. Each is thin: read the interaction, call a service, present the result."""
