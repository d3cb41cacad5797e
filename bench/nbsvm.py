"""A linear SVM averaged with an NBSVM: a variant of the NLU's classifier, looked at and not served.

NBSVM (Wang & Manning, "Baselines and Bigrams", ACL 2012) trains, for each intent against the
rest, a linear SVM on binarised features scaled by their naive-Bayes log-count ratio, and
interpolates its weights towards their mean magnitude (beta); neither scikit-learn nor a
maintained package provides it, so it is written here around scikit-learn's LinearSVC. Each
model's scores are divided by their spread over the training data, then averaged. Exposes what
nlu/components/linear_classifier.py uses of a model (fit, decision_function, classes_), so it
can be tried in the pipeline. Measured by `bench/nlu_variants.py` ("SVM + NBSVM") and found
not worth serving: see the README's "NLU (Rasa)", "Looked at and not adopted".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse
from sklearn.svm import LinearSVC


class SvmNbSvm:
    """Scores of a LinearSVC and an NBSVM on the same features, each scaled, then averaged.

    Exposes what the classifier uses of a scikit-learn model: fit, decision_function, classes_.
    """

    def __init__(
        self,
        C: float = 1.0,
        beta: float = 0.25,
        alpha: float = 1.0,
        weight: float = 0.5,
        tol: float = 1e-4,
        max_iter: int = 5000,
        class_weight: Any = None,
        random_state: int | None = None,
    ) -> None:
        self.beta, self.alpha, self.weight = beta, alpha, weight
        self._svm_params = {
            "C": C,
            "tol": tol,
            "max_iter": max_iter,
            "class_weight": class_weight,
            "random_state": random_state,
        }
        self.classes_ = np.array([])
        self._svm_w = self._nb_w = np.zeros((0, 0))
        self._svm_b = self._nb_b = np.zeros(0)
        self._svm_scale = self._nb_scale = 1.0

    def fit(self, features: scipy.sparse.csr_matrix, labels: Any) -> SvmNbSvm:
        labels = np.asarray(labels)
        svm = LinearSVC(**self._svm_params).fit(features, labels)
        self.classes_ = svm.classes_
        self._svm_w = np.ascontiguousarray(svm.coef_.T)
        self._svm_b = svm.intercept_.copy()
        present = self._binary(features)
        weights, biases = [], []
        for code in self.classes_:
            positive = labels == code
            ratio = self._log_count_ratio(present, positive)
            model = LinearSVC(**self._svm_params).fit(present @ scipy.sparse.diags(ratio), positive)
            w = model.coef_.ravel()
            w = (1 - self.beta) * np.abs(w).mean() + self.beta * w
            weights.append(ratio * w)  # the ratio's scaling folded into the weights
            biases.append(float(model.intercept_[0]))
        self._nb_w = np.ascontiguousarray(np.column_stack(weights))
        self._nb_b = np.array(biases)
        svm_scores, nb_scores = self._parts(features)
        self._svm_scale = float(svm_scores.std()) or 1.0
        self._nb_scale = float(nb_scores.std()) or 1.0
        return self

    def _log_count_ratio(self, present: scipy.sparse.csr_matrix, positive: np.ndarray):
        p = self.alpha + np.asarray(present[positive].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(present[~positive].sum(axis=0)).ravel()
        return np.log((p / p.sum()) / (q / q.sum()))

    @staticmethod
    def _binary(features: scipy.sparse.csr_matrix) -> scipy.sparse.csr_matrix:
        present = scipy.sparse.csr_matrix(features, dtype=np.float64, copy=True)
        present.data = (present.data > 0).astype(np.float64)
        return present

    def _parts(self, features: scipy.sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        svm = np.asarray(features @ self._svm_w) + self._svm_b
        if svm.shape[1] == 1:  # two classes: LinearSVC scores the second one only
            svm = np.column_stack([-svm[:, 0], svm[:, 0]])
        nb = np.asarray(self._binary(features) @ self._nb_w) + self._nb_b
        return svm, nb

    def decision_function(self, features: scipy.sparse.csr_matrix) -> np.ndarray:
        svm, nb = self._parts(features)
        return (1 - self.weight) * svm / self._svm_scale + self.weight * nb / self._nb_scale
