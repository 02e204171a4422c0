"""Which recognition engine the local stack runs: `scripted` (snaprace.local.engines) or `vision`
(snaprace.local.vision, real offline models from the project's `vision` extra). Chosen here, so
neither engine module imports the other's side (the import graph has no cycle)."""

from snaprace.local.engines import EngineUnavailable, ScriptedEngine


def make_engine(name: str, known_images=list):
    if name == "scripted":
        return ScriptedEngine(known_images)
    if name == "vision":
        try:
            from snaprace.local.vision import VisionEngine
        except ImportError as exc:
            raise EngineUnavailable(str(exc)) from None
        return VisionEngine(known_images)
    raise EngineUnavailable(f"unknown engine {name!r}: use scripted or vision")
