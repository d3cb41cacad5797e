"""Sentence-level TF-IDF features (word and character n-grams) for the linear classifier.

CountVectorsFeaturizer also builds a feature row for every token (sequence features, which
only DIET and CRF use) and re-vectorises each token separately: on long messages that was
half of the parse time. This featurizer produces only the sentence features the linear
classifier reads, each block TF-IDF weighted and L2-normalised as in scikit-learn's
TfidfVectorizer.
"""

from __future__ import annotations

import logging
from typing import Any

import joblib
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer

from nlu.components import CodeFingerprinted

logger = logging.getLogger(__name__)

MODEL_FILE = "tfidf_vectorizers.joblib"
# Single characters count as words: "ổ gà" (pothole) starts with one.
WORD_PATTERN = r"(?u)\b\w+\b"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class TfidfSentenceFeaturizer(CodeFingerprinted, SparseFeaturizer, GraphComponent):
    """Adds TF-IDF word n-gram and char_wb n-gram sentence features of TEXT."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """N-gram ranges and TF-IDF options of the two vectorizers."""
        return {
            **SparseFeaturizer.get_default_config(),
            "word_ngram_range": [1, 2],
            "char_ngram_range": [2, 4],
            "sublinear_tf": True,
            "min_df": 1,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Check the n-gram ranges."""
        for key in ("word_ngram_range", "char_ngram_range"):
            low, high = config[key]
            if not 1 <= low <= high:
                raise ValueError(f"{key} must be [low, high] with 1 <= low <= high")

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        vectorizers: list[TfidfVectorizer] | None = None,
    ) -> None:
        config = {**self.get_default_config(), **config}
        SparseFeaturizer.__init__(self, execution_context.node_name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._vectorizers = vectorizers or []

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TfidfSentenceFeaturizer:
        """Create an untrained featurizer."""
        return cls(config, model_storage, resource, execution_context)

    def _new_vectorizers(self) -> list[TfidfVectorizer]:
        common = {"sublinear_tf": self._config["sublinear_tf"], "min_df": self._config["min_df"]}
        return [
            TfidfVectorizer(
                analyzer="word",
                token_pattern=WORD_PATTERN,
                ngram_range=tuple(self._config["word_ngram_range"]),
                **common,
            ),
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=tuple(self._config["char_ngram_range"]), **common
            ),
        ]

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the vocabularies and IDF weights on the training texts."""
        texts = [m.get(TEXT) for m in training_data.training_examples if m.get(TEXT)]
        if not texts:
            logger.debug("No texts: %s is not trained.", self.__class__.__name__)
            return self._resource
        self._vectorizers = self._new_vectorizers()
        for vectorizer in self._vectorizers:
            vectorizer.fit(texts)
        with self._model_storage.write_to(self._resource) as model_dir:
            joblib.dump(self._vectorizers, model_dir / MODEL_FILE)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize the training examples."""
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Add the sentence features to every message that has a text."""
        if not self._vectorizers:
            return messages
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return messages
        texts = [m.get(TEXT) for m in with_text]
        matrix = scipy.sparse.hstack([v.transform(texts) for v in self._vectorizers]).tocsr()
        for row, message in enumerate(with_text):
            self.add_features_to_message(
                sequence=None, sentence=matrix[row].tocoo(), attribute=TEXT, message=message
            )
        return messages

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfSentenceFeaturizer:
        """Load the fitted vectorizers (an untrained featurizer when there are none)."""
        try:
            with model_storage.read_from(resource) as model_dir:
                vectorizers = joblib.load(model_dir / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.debug("No stored %s; starting untrained.", cls.__name__)
            vectorizers = None
        return cls(config, model_storage, resource, execution_context, vectorizers)
