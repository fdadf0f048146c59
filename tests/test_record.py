"""`pywamr/record.py`: records behave like the frozen, slotted dataclasses they replace."""
from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from pywamr.component import ast
from pywamr.record import FrozenInstanceError, field, record, record_items, replace


@record
class Point:
    """A test record."""
    x: int
    y: int = 0
    tags: dict = field(default_factory=dict)

    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


def test_construction_defaults_and_factories():
    p = Point(1, y=2)
    assert (p.x, p.y, p.tags) == (1, 2, {})
    assert Point(x=3).y == 0 and Point(3).norm1() == 3
    assert Point(1).tags is not Point(1).tags, "a factory makes a fresh default each time"
    assert Point.__doc__ == "A test record." and Point.__name__ == "Point"
    with pytest.raises(TypeError, match="missing argument 'x'"):
        Point()
    with pytest.raises(TypeError, match="takes 3 arguments"):
        Point(1, 2, {}, 4)
    with pytest.raises(TypeError, match="'z'"):
        Point(1, z=2)
    with pytest.raises(TypeError, match="'x'"):
        Point(1, x=2)


def test_frozen_slotted_equal_hashable():
    p = Point(1, 2)
    with pytest.raises(FrozenInstanceError):
        p.x = 5
    with pytest.raises(FrozenInstanceError):
        del p.y
    with pytest.raises(AttributeError):
        object.__getattribute__(p, "__dict__")
    assert Point(1, 2) == Point(1, 2) and Point(1, 2) != Point(2, 1)
    assert Point(1, 2) != (1, 2, {})
    assert hash(ast.SortIndex("func", 3)) == hash(ast.SortIndex("func", 3))
    assert len({ast.SortIndex("func", 3), ast.SortIndex("func", 3)}) == 1
    assert repr(Point(1, 2)) == "Point(x=1, y=2, tags={})"
    assert Point.__match_args__ == ("x", "y", "tags")
    match Point(4, 5):
        case Point(a, b):
            assert (a, b) == (4, 5)


def test_pickle_and_copy_round_trip():
    p = ast.CoreModule(b"\0asm\1\0\0\0", 12)
    assert pickle.loads(pickle.dumps(p)) == p
    assert copy.copy(p) == p and copy.deepcopy(Point(1, 2, {"a": 1})) == Point(1, 2, {"a": 1})


def test_inheritance_and_identity_equality():
    class Base:
        __slots__ = ()

    @record(eq=False)
    class Handle(Base):
        target: object

    @record(eq=False)
    class Own(Handle):
        pass

    @record
    class Pair(Handle):
        other: int = 0
    t = object()
    assert Own(t).target is t and isinstance(Own(t), Base)
    assert Own(t) != Own(t), "eq=False: identity"
    assert Pair(t, 2) == Pair(t, 2) and Pair(t).other == 0
    assert Pair.__match_args__ == ("target", "other")
    with pytest.raises(TypeError, match="one record base"):
        @record
        class Two(Own, Pair):
            pass


def test_resolved_types_copy_equal_and_handles_compare_by_resource():
    from pywamr.component.subtype import copy_type
    from pywamr.component.types import OwnType, RecordType, FieldType, ResourceType, U32
    r = RecordType((FieldType("a", U32),))
    c = copy_type(r)
    assert c == r and c is not r and hash(c) == hash(r)
    res = ResourceType("x")
    assert OwnType(res) == OwnType(res) and OwnType(res) != OwnType(ResourceType("x"))


def test_replace_and_items():
    p = Point(1, 2, {"k": 1})
    q = replace(p, y=7)
    assert q == Point(1, 7, {"k": 1}) and p == Point(1, 2, {"k": 1})
    assert record_items(q) == (("x", 1), ("y", 7), ("tags", {"k": 1}))
    with pytest.raises(TypeError, match="no field z"):
        replace(p, z=1)


def test_dataclasses_field_is_understood():
    @record
    class Box:
        items: list = dataclasses.field(default_factory=list)
        label: str = dataclasses.field(default="box")

    a, b = Box(), Box()
    assert a.items == [] and a.items is not b.items and a.label == "box"
    with pytest.raises(ValueError, match="not both"):
        field(default=1, default_factory=list)


def test_frozen_error_is_an_attribute_error():
    with pytest.raises(AttributeError):
        Point(1).x = 2
