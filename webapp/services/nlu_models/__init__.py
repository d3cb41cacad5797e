"""The NLU models' lifecycle: the learning loop (operators' corrections → a candidate model →
scored against the serving one → promoted only if not worse) and the model history."""
