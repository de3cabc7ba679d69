"""The transformer plugin."""


def register_models():  # replaced when the plugin lands
    return []
