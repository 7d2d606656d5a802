"""The Bitrix24 automation app. ``create_app()`` lives in ``app.web``."""
