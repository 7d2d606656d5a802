"""Configuration: one frozen :class:`config.settings.Settings` and the logging setup."""
