"""The stored events' JSON, written and read by orjson: the same bytes as the library's `JSONTranscoder`.

The application defines its stored format (the topics, the transcodings in `register_transcodings`),
so the codec of that format lives beside it. The library's `JSONTranscoder` (the `json` module with
an `object_hook`) costs most of a rebuild's time; orjson parses and writes the same JSON several
times faster. Byte for byte the same matters: the audit chain hashes the stored bytes, and events
written before and after must read alike.

orjson would write some values differently (it knows UUIDs, datetimes, dataclasses and enums itself,
and writes floats its own way), so values are never handed to it as they are:

- writing: the event's state is first made *plain*: str, int (64-bit), bool, None, list, dict with
  str keys, and every registered type as `{"_type_": name, "_data_": ...}` exactly as the library's
  `default` hook makes it. Anything else (a float, a subclass of a JSON type, a wider int, a dict
  with other keys, an unregistered type, a cycle) is written by the library's own encoder instead,
  so it comes out as the library writes it, or fails as the library fails.
- reading: orjson parses, then each two-key `{"_type_", "_data_"}` object is decoded bottom-up by
  its transcoding, as `object_hook` does. orjson reads an integer wider than 64 bits as a float and
  refuses what `json` accepts (NaN, lone surrogates, deep nesting), so a parse that gives a float, or
  any failure, is read again by the library's decoder, which gives its own value or its own error.

`ResolvedTopicsMapper` is the library's `Mapper` with each topic's class, class version and
upcasters looked up once per process instead of on every event. `OrjsonStoredJSON` puts both in an
`eventsourcing` application (`SecretariatApplication`; the benchmark's bare floor when asked).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Generic
from uuid import UUID

import orjson
from eventsourcing.domain import DomainEventProtocol, TAggregateID
from eventsourcing.persistence import (DatetimeAsISO, DecimalAsStr, InfrastructureFactory, JSONTranscoder, Mapper,
                                       MapperDeserialisationError, StoredEvent, Transcoder, Transcoding, UUIDAsHex,
                                       find_id_convertor, pass_through_convertor)
from eventsourcing.utils import resolve_topic

# The JSON types `json`'s encoder writes itself (subclasses too) before it asks its `default` hook.
_JSON_TYPES = (str, int, float, list, tuple, dict)
# Values written as they are. An int wider than 64 bits is refused by orjson (the library's encoder takes it).
_AS_THEY_ARE = frozenset({str, int, bool, type(None)})
# What parsing gives that needs a look inside (containers), or the library's decoder (floats: see above).
_LOOK_INSIDE = frozenset({dict, list, float})


class _NotPlain(Exception):
    """A value the fast path does not write or read exactly as `json` does: the library's codec takes it."""


class OrjsonTranscoder(JSONTranscoder):
    """`JSONTranscoder` with orjson underneath: the same registered transcodings, the same bytes both ways."""

    def __init__(self) -> None:
        super().__init__()
        # Type -> (name, encode) and name -> decode, of the registered transcodings (kept by `register`).
        self._encoders: dict[type, tuple[str, Callable[[Any], Any]]] = {}
        self._decoders: dict[str, Callable[[Any], Any]] = {}
        self._plain = _plain_maker(self._encoders)
        self._revived = _reviver(self._decoders)

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._encoders.pop(transcoding.type, None)
        # `json` writes a subclass of its own types as that type and never asks the hook: so does the fallback.
        if not issubclass(transcoding.type, _JSON_TYPES):
            self._encoders[transcoding.type] = (transcoding.name, transcoding.encode)
        # The library's own ISO and hex transcodings decode by the constructor itself (a call less per value);
        # given bad data both fail, and the library's decoder, which then reads it again, says how.
        self._decoders[transcoding.name] = _DIRECT_DECODERS.get(type(transcoding), transcoding.decode)

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except (_NotPlain, TypeError, RecursionError):  # orjson.JSONEncodeError is a TypeError
            return super().encode(obj)

    def decode(self, data: bytes) -> Any:
        try:
            return self._revived(orjson.loads(data))
        except Exception:  # noqa: BLE001 - whatever it was, the library's decoder gives its own answer
            return super().decode(data)


def _plain_maker(encoders: dict[type, tuple[str, Callable[[Any], Any]]]) -> Callable[[Any], Any]:
    """What writes a value as only what orjson writes as `json` does: str, int, bool, None, dicts, lists,
    and each registered type as `{"_type_": name, "_data_": ...}` (the library's `default` hook's dict)."""

    def plain(obj: Any) -> Any:
        kind = type(obj)
        if kind in _AS_THEY_ARE:
            return obj
        if kind is dict:  # a key that is not a str: orjson refuses it, and the library's encoder takes it
            return {key: value if type(value) in _AS_THEY_ARE else plain(value) for key, value in obj.items()}
        if kind is list or kind is tuple:
            return [value if type(value) in _AS_THEY_ARE else plain(value) for value in obj]
        try:
            name, encode = encoders[kind]
        except KeyError:  # a float, a subclass of a JSON type, an unregistered type: the library's encoder
            raise _NotPlain from None
        return {"_type_": name, "_data_": plain(encode(obj))}

    return plain


def _reviver(decoders: dict[str, Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """What gives parsed JSON with every `{"_type_", "_data_"}` object decoded by its transcoding, innermost
    first, as the library's `object_hook` does; it refuses (`_NotPlain`) a float anywhere."""

    def revived(obj: Any) -> Any:
        kind = type(obj)
        if kind is dict:
            for key, value in obj.items():
                if type(value) in _LOOK_INSIDE:
                    # Most are a transcoded value holding a string (a timestamp): decoded here, a call less.
                    if (type(value) is dict and len(value) == 2 and type(value.get("_data_")) is str
                            and type(value.get("_type_")) is str):
                        obj[key] = decoders[value["_type_"]](value["_data_"])
                    else:
                        obj[key] = revived(value)
            if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
                return decoders[obj["_type_"]](obj["_data_"])
            return obj
        if kind is list:
            for index, value in enumerate(obj):
                if type(value) in _LOOK_INSIDE:
                    obj[index] = revived(value)
            return obj
        if kind is float:  # perhaps an integer wider than 64 bits, which orjson reads as a float
            raise _NotPlain
        return obj

    return revived


_DIRECT_DECODERS: dict[type, Callable[[Any], Any]] = {
    DatetimeAsISO: datetime.fromisoformat, UUIDAsHex: UUID, DecimalAsStr: Decimal}


class ResolvedTopicsMapper(Mapper[TAggregateID], Generic[TAggregateID]):
    """The library's `Mapper`, resolving each topic (its class, class version and upcasters) once.

    Reads as `Mapper.to_domain_event` does, step for step and with the same errors; writes as it does.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Topic -> its class and class version, and the originator id's type last seen with it and the
        # id's converter for that type (None: the id as it is).
        self._classes: dict[str, tuple[type, int, type | None, Callable[[Any], Any] | None]] = {}
        self._upcasters: dict[tuple[type, int], list[Callable[[dict[str, Any]], Any]]] = {}

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[TAggregateID]:
        topic = stored_event.topic
        try:
            cls, class_version, id_type, id_convertor = self._classes[topic]
        except KeyError:
            cls = resolve_topic(topic)
            class_version = getattr(cls, "class_version", 1)
            id_type = id_convertor = None
            self._classes[topic] = cls, class_version, id_type, id_convertor

        stored_state = stored_event.state
        try:
            if self.cipher:
                stored_state = self.cipher.decrypt(stored_state)
            if self.compressor:
                stored_state = self.compressor.decompress(stored_state)
            event_state: dict[str, Any] = self.transcoder.decode(stored_state)
        except Exception as e:
            msg = (f"Failed to deserialise state of stored event with topic '{stored_event.topic}', "
                   f"originator_id '{stored_event.originator_id}' and "
                   f"originator_version {stored_event.originator_version}: {e}")
            raise MapperDeserialisationError(msg) from e

        originator_id = stored_event.originator_id
        if type(originator_id) is not id_type:
            id_type = type(originator_id)
            id_convertor = find_id_convertor(cls, id_type)
            if id_convertor is pass_through_convertor:
                id_convertor = None
            self._classes[topic] = cls, class_version, id_type, id_convertor
        event_state["originator_id"] = originator_id if id_convertor is None else id_convertor(originator_id)
        event_state["originator_version"] = stored_event.originator_version
        from_version = event_state.pop("class_version", 1)
        if from_version < class_version:
            for upcast in self._upcasters_of(cls, from_version, class_version):
                upcast(event_state)

        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return domain_event

    def _upcasters_of(self, cls: type, from_version: int, class_version: int) -> list[Callable[[dict], Any]]:
        try:
            return self._upcasters[cls, from_version]
        except KeyError:
            pass
        upcasters = [getattr(cls, f"upcast_v{v}_v{v + 1}") for v in range(from_version, class_version)]
        self._upcasters[cls, from_version] = upcasters
        return upcasters



class OrjsonStoredJSON:
    """Mixin for an `eventsourcing` Application (before it in the bases): its events stored by the orjson
    codec and read by the resolved-topics mapper, with the transcodings its `register_transcodings` gives.
    A cipher or compressor set in the environment still applies (the library's factory adds them)."""

    factory: InfrastructureFactory

    def construct_mapper(self) -> Mapper[Any]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=ResolvedTopicsMapper)

    def construct_transcoder(self) -> Transcoder:
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)  # type: ignore[attr-defined]
        return transcoder
