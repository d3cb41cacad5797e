"""TF-IDF weighted logistic regression over the sparse sentence features of the pipeline.

Rasa's own LogisticRegressionClassifier fits raw counts with a fixed regularisation, which
lets long messages dominate; DIETClassifier needs minutes per training on two CPU cores.
This classifier re-weights the CountVectorsFeaturizer sentence features with sublinear TF-IDF
and L2 normalisation before a multinomial logistic regression: it trains in seconds, parses
in about a millisecond, and scored best on the development set (see nlu/README.md).

A regularised linear model spreads its probability over 21 intents, so a right answer often
gets a confidence near 0.5 and the app's triage threshold would reject it. The confidences
are therefore calibrated with a temperature fitted on out-of-fold predictions of the
training data (minimum negative log-likelihood), which keeps the ranking unchanged.

`model: svm` fits a linear support vector machine (one-vs-rest, squared hinge) instead; its
decision values go through the same fitted-temperature softmax, so its confidences are
calibrated the same way.
"""

from __future__ import annotations

import logging
from typing import Any

import joblib
import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.svm import LinearSVC

from nlu.components import ORIGIN, CodeFingerprinted

logger = logging.getLogger(__name__)

MODEL_FILE = "tfidf_logreg.joblib"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfLogRegClassifier(CodeFingerprinted, IntentClassifier, GraphComponent):
    """Intent classifier: TF-IDF re-weighting plus multinomial logistic regression."""

    @classmethod
    def required_components(cls) -> list[type]:
        """A featurizer must provide sparse sentence features."""
        return [Featurizer]

    @staticmethod
    def required_packages() -> list[str]:
        """Python packages this component needs."""
        return ["sklearn"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Regularisation, TF-IDF and ranking settings."""
        return {
            # logreg (multinomial logistic regression) or svm (linear SVM).
            "model": "logreg",
            "C": 10.0,
            "solver": "saga",
            "tol": 1e-3,
            "max_iter": 3000,
            "class_weight": None,
            # Re-weight the sentence features with TF-IDF (for raw counts such as those of
            # CountVectorsFeaturizer); false when a featurizer already provides TF-IDF.
            "tfidf": True,
            "sublinear_tf": True,
            # Folds for the temperature calibration of the confidences (0: no calibration).
            "calibration_folds": 3,
            "random_state": 42,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        tfidf: TfidfTransformer | None = None,
        clf: LogisticRegression | LinearSVC | None = None,
        temperature: float = 1.0,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._tfidf = tfidf
        self._clf = clf
        self._temperature = temperature
        self._weights: np.ndarray | None = None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TfidfLogRegClassifier:
        """Create an untrained classifier."""
        return cls(config, model_storage, resource)

    @staticmethod
    def _features(messages: list[Message]) -> scipy.sparse.csr_matrix:
        rows = []
        for message in messages:
            _, sentence = message.get_sparse_features(TEXT)
            if sentence is None:
                raise ValueError("TfidfLogRegClassifier needs sparse sentence features of TEXT")
            rows.append(scipy.sparse.csr_matrix(sentence.features))
        return scipy.sparse.vstack(rows).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        """Fit TF-IDF weights and the classifier on the intent examples."""
        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        if not examples:
            logger.debug("No intent examples: %s is not trained.", self.__class__.__name__)
            return self._resource
        labels = [m.get(INTENT) for m in examples]
        features = self._features(examples)
        if self._config["tfidf"]:
            self._tfidf = TfidfTransformer(sublinear_tf=self._config["sublinear_tf"])
            features = self._tfidf.fit_transform(features)
        # An example and its copies (normalizer.py) fall in the same calibration fold.
        groups = [m.get(ORIGIN, f"own-{i}") for i, m in enumerate(examples)]
        groups = np.unique([str(g) for g in groups], return_inverse=True)[1]
        self._temperature = self._fit_temperature(features, np.asarray(labels), groups)
        self._clf = self._new_model()
        self._clf.fit(features, labels)
        self._weights = None
        logger.debug("Fitted %s, temperature %.3f", self.__class__.__name__, self._temperature)
        self.persist()
        return self._resource

    def _new_model(self) -> LogisticRegression | LinearSVC:
        if self._config["model"] == "svm":
            return LinearSVC(
                C=self._config["C"],
                tol=self._config["tol"],
                max_iter=self._config["max_iter"],
                class_weight=self._config["class_weight"],
                random_state=self._config["random_state"],
            )
        if self._config["model"] != "logreg":
            raise ValueError(f"model must be logreg or svm, not {self._config['model']!r}")
        return LogisticRegression(
            C=self._config["C"],
            solver=self._config["solver"],
            tol=self._config["tol"],
            max_iter=self._config["max_iter"],
            class_weight=self._config["class_weight"],
            random_state=self._config["random_state"],
        )

    def _fit_temperature(
        self, features: scipy.sparse.csr_matrix, labels: np.ndarray, groups: np.ndarray
    ) -> float:
        """The softmax temperature that best explains out-of-fold predictions."""
        folds = int(self._config["calibration_folds"])
        classes = np.unique(labels)
        # Groups of each class: an example with its copies counts once.
        per_class = np.unique(np.column_stack([labels, groups.astype(str)]), axis=0)[:, 0]
        if folds < 2 or np.unique(per_class, return_counts=True)[1].min() < folds:
            return 1.0
        logits = np.zeros((len(labels), len(classes)))
        for train_idx, test_idx in calibration_folds(
            labels, groups, folds, self._config["random_state"]
        ):
            model = self._new_model().fit(features[train_idx], labels[train_idx])
            logits[test_idx] = _logits(model, features[test_idx])
        gold = np.searchsorted(classes, labels)
        best_nll, best_t = np.inf, 1.0
        for temperature in np.exp(np.linspace(np.log(0.05), np.log(5.0), 200)):
            nll = -_log_softmax(logits / temperature)[np.arange(len(gold)), gold].mean()
            if nll < best_nll:
                best_nll, best_t = nll, float(temperature)
        return best_t

    def process(self, messages: list[Message]) -> list[Message]:
        """Set `intent` and `intent_ranking` on each message."""
        if self._clf is None or not messages:
            return messages
        if self._weights is None:
            # decision_function copies coef_.T on every call (~2 ms); keep a contiguous copy.
            self._weights = np.ascontiguousarray(self._clf.coef_.T)
        features = self._features(messages)
        if self._tfidf is not None:
            features = self._tfidf.transform(features)
        logits = np.asarray(features @ self._weights) + self._clf.intercept_
        if logits.shape[1] == 1:
            logits = np.column_stack([np.zeros(len(logits)), logits[:, 0]])
        probabilities = np.exp(_log_softmax(logits / self._temperature))
        names = self._clf.classes_
        limit = self._config["ranking_length"]
        for message, row in zip(messages, probabilities, strict=True):
            order = np.argsort(-row)
            if limit and limit > 0:
                order = order[:limit]
            ranking = [{"name": str(names[i]), "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        """Store the fitted transformer and classifier in the model."""
        with self._model_storage.write_to(self._resource) as model_dir:
            stored = {"tfidf": self._tfidf, "clf": self._clf, "temperature": self._temperature}
            joblib.dump(stored, model_dir / MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfLogRegClassifier:
        """Load the fitted classifier (an untrained one when the model has none)."""
        try:
            with model_storage.read_from(resource) as model_dir:
                stored = joblib.load(model_dir / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.debug("No stored %s; starting untrained.", cls.__name__)
            return cls(config, model_storage, resource)
        return cls(
            config,
            model_storage,
            resource,
            stored["tfidf"],
            stored["clf"],
            float(stored.get("temperature", 1.0)),
        )


def calibration_folds(
    labels: np.ndarray, groups: np.ndarray, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that keep each group (an example and its copies) in one fold, every
    class in every training part.

    scikit-learn 1.1's StratifiedGroupKFold(shuffle=True) shuffles the groups' class counts
    but not their ids, so its folds come out unstratified (scikit-learn issue 32478): the
    groups are shuffled here, by renumbering them, and split without its shuffle. Should a
    training part still miss a class, the folds fall back to plain stratified ones (a copy may
    then sit on both sides, which only makes the temperature a little bolder).
    """
    renumbered = np.random.default_rng(seed).permutation(int(groups.max()) + 1)[groups]
    placeholder = np.zeros(len(labels))
    split = list(StratifiedGroupKFold(folds).split(placeholder, labels, renumbered))
    classes = len(np.unique(labels))
    if all(len(np.unique(labels[train])) == classes for train, _ in split):
        return split
    logger.warning("Calibration folds that keep copies together miss a class; ungrouped.")
    return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(placeholder, labels))


def _logits(model: LogisticRegression | LinearSVC, features: scipy.sparse.csr_matrix) -> np.ndarray:
    scores = model.decision_function(features)
    if scores.ndim == 1:  # two classes: one score for the second class
        scores = np.column_stack([np.zeros_like(scores), scores])
    return scores


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
