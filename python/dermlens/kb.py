"""The clinical knowledge base (docs/kb-schema.md): `load()` it, then show, resolve, relate,
list label sets and DDx neighbours. `Engine.kb` is the one an Engine loaded."""

from ._dermlens.kb import KnowledgeBase, load

__all__ = ["KnowledgeBase", "load"]
