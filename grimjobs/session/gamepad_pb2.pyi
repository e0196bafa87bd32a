from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class GamepadState(_message.Message):
    __slots__ = ("monotonic_ns", "axes", "pressed_buttons", "pressed_keys", "pressed_mouse_buttons", "mouse_x", "mouse_y", "reason")
    MONOTONIC_NS_FIELD_NUMBER: _ClassVar[int]
    AXES_FIELD_NUMBER: _ClassVar[int]
    PRESSED_BUTTONS_FIELD_NUMBER: _ClassVar[int]
    PRESSED_KEYS_FIELD_NUMBER: _ClassVar[int]
    PRESSED_MOUSE_BUTTONS_FIELD_NUMBER: _ClassVar[int]
    MOUSE_X_FIELD_NUMBER: _ClassVar[int]
    MOUSE_Y_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    monotonic_ns: int
    axes: _containers.RepeatedScalarFieldContainer[float]
    pressed_buttons: _containers.RepeatedScalarFieldContainer[int]
    pressed_keys: _containers.RepeatedScalarFieldContainer[int]
    pressed_mouse_buttons: _containers.RepeatedScalarFieldContainer[int]
    mouse_x: int
    mouse_y: int
    reason: int
    def __init__(self, monotonic_ns: _Optional[int] = ..., axes: _Optional[_Iterable[float]] = ..., pressed_buttons: _Optional[_Iterable[int]] = ..., pressed_keys: _Optional[_Iterable[int]] = ..., pressed_mouse_buttons: _Optional[_Iterable[int]] = ..., mouse_x: _Optional[int] = ..., mouse_y: _Optional[int] = ..., reason: _Optional[int] = ...) -> None: ...
