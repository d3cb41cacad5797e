"""Rasa graph component that normalises the message text before tokenisation.

Placed first in the pipeline so that training examples and parsed messages go through the
same `nlu.normalize` function. Entity annotations of training examples are moved to the
normalised text so that later components see consistent offsets.

With `augment_unaccented: true`, every training example written with diacritics also trains
once as a resident without a Vietnamese keyboard would type it (diacritics stripped, no entity
annotations). Both copies carry the same `ORIGIN` group, so the classifier's calibration folds
never hold one copy while fitting on the other. Augmenting here, inside the pipeline, keeps
cross-validation honest: only the training folds are augmented, never the scored examples.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import ORIGIN, CodeFingerprinted
from nlu.normalize import model_text, normalize, strip_diacritics

MODES = ("plain", "ascii", "both")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TextNormalizer(CodeFingerprinted, GraphComponent):
    """Rewrite TEXT to its normalised form (see `nlu.normalize.model_text`)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default: normalised text followed by its diacritic-free form; no augmentation."""
        return {"mode": "both", "augment_unaccented": False}

    def __init__(self, config: dict[str, Any]) -> None:
        mode = config.get("mode", "both")
        if mode not in MODES:
            raise ValueError(f"TextNormalizer mode must be one of {MODES}, not {mode!r}")
        self._mode = mode
        self._augment = bool(config.get("augment_unaccented", False))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        """Create the component (nothing to train or persist)."""
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise every training example that has a text (and add unaccented copies)."""
        copies = self._unaccented_copies(training_data.training_examples) if self._augment else []
        for message in training_data.training_examples:
            self._rewrite(message)
        if not copies:
            return training_data
        for message in copies:
            self._rewrite(message)
        return TrainingData(
            training_data.training_examples + copies,
            training_data.entity_synonyms,
            training_data.regex_features,
            training_data.lookup_tables,
            training_data.responses,
        )

    @staticmethod
    def _unaccented_copies(examples: list[Message]) -> list[Message]:
        """An intent example's text without diacritics, grouped with the example it copies."""
        copies = []
        for index, message in enumerate(examples):
            text, intent = message.get(TEXT), message.get(INTENT)
            if not text or not intent:
                continue
            bare = strip_diacritics(text)
            if bare == text:
                continue
            message.set(ORIGIN, index)
            copies.append(Message(data={TEXT: bare, INTENT: intent, ORIGIN: index}))
        return copies

    def process(self, messages: list[Message]) -> list[Message]:
        """Normalise incoming messages at parse time."""
        for message in messages:
            self._rewrite(message)
        return messages

    def _rewrite(self, message: Message) -> None:
        text = message.get(TEXT)
        if not text:
            return
        new_text = model_text(text, self._mode)
        if new_text == text:
            return
        entities = message.get(ENTITIES)
        message.set(TEXT, new_text)
        if entities:
            message.set(ENTITIES, _moved_entities(text, new_text, entities, self._mode))


def _moved_entities(
    old_text: str, new_text: str, entities: list[dict[str, Any]], mode: str
) -> list[dict[str, Any]]:
    """Re-locate annotated entities in the normalised text; drop those not found."""
    moved = []
    cursor = 0
    for entity in sorted(entities, key=lambda e: e.get("start", 0)):
        surface = old_text[entity["start"] : entity["end"]]
        target = model_text(surface, "ascii" if mode == "ascii" else "plain")
        index = new_text.find(target, cursor)
        if index < 0:
            index = new_text.find(target)
        if index < 0:
            continue
        value = entity.get("value")
        updated = dict(entity, start=index, end=index + len(target))
        # A value equal to the surface form is just the annotation itself; keep it aligned
        # with the text so the synonym mapper learns no accidental synonyms.
        if value is None or value == surface or normalize(str(value)) == normalize(surface):
            updated["value"] = target
        moved.append(updated)
        cursor = index + len(target)
    return moved
