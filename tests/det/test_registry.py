"""Registry: register by name or alias, get, build from a name or a dict, errors."""
import pytest

from det.registry import BACKBONES, EVALUATORS, HOOKS, MODELS, Registry


class Box:
    def __init__(self, a, b=2):
        self.a, self.b = a, b


def test_register_default_name_and_alias():
    reg = Registry("things")
    assert reg.register()(Box) is Box
    reg.register("box")(Box)
    assert reg.get("Box") is Box and reg.get("box") is Box
    assert "Box" in reg and len(reg) == 2 and list(reg) == ["Box", "box"]


def test_build_from_name_or_dict_with_kwargs():
    reg = Registry("things")
    reg.register()(Box)
    obj = reg.build({"name": "Box", "a": 1, "b": 3})
    assert (obj.a, obj.b) == (1, 3)
    obj = reg.build("Box", a=5)
    assert (obj.a, obj.b) == (5, 2)
    obj = reg.build({"name": "Box", "a": 1}, a=7)  # explicit kwargs win
    assert obj.a == 7


def test_missing_name_lists_registered():
    reg = Registry("models")
    reg.register("FCOS")(Box)
    reg.register("RetinaNet")(Box)
    with pytest.raises(KeyError, match=r"no entry named 'Yolo'; registered: FCOS, RetinaNet"):
        reg.get("Yolo")
    with pytest.raises(KeyError, match="registered: none"):
        Registry("empty").build("X")


def test_duplicate_name_for_another_object_is_an_error():
    reg = Registry("things")
    reg.register("x")(Box)

    class Other:
        pass

    with pytest.raises(KeyError, match="'x' is already registered"):
        reg.register("x")(Other)
    reg.register("x")(Box)  # the same object again is fine


def test_bad_build_arguments():
    reg = Registry("things")
    reg.register()(Box)
    with pytest.raises(KeyError, match="no 'name' key"):
        reg.build({"a": 1})
    with pytest.raises(TypeError, match="expected a name or a dict"):
        reg.build(3)
    with pytest.raises(TypeError, match="with parentheses"):
        reg.register(Box)  # @register without ()


def test_global_registries_exist():
    assert {r.name for r in (MODELS, BACKBONES, HOOKS, EVALUATORS)} == {
        "models", "backbones", "hooks", "evaluators"}
    import det.engine  # noqa: F401  (registers the default hooks)

    assert "PeriodicCheckpointer" in HOOKS and "EvalHook" in HOOKS
