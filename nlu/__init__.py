"""The Rasa NLU project: training data, tooling, and the HTTP client the app uses.

Importable from both the app (Python 3.11) and the Rasa server (Python 3.10): keep this
module free of third-party imports.
"""

from nlu.intents import ALL_INTENTS, CATEGORY_CODES, CHAT_INTENTS, is_category

__all__ = ["ALL_INTENTS", "CATEGORY_CODES", "CHAT_INTENTS", "is_category"]
