"""Personal data's value type and its encryption, on the in-memory key store."""

from __future__ import annotations

import json

from eventsourcing.persistence import JSONTranscoder

from domain.personal_data import ERASED, PersonalData, PersonalDataInTheClear, reveal, seal_personal_fields, shown
from domain.workflow import Field
from personal_data.cipher import EncryptedPersonalData
from personal_data.keys import MemoryPersonalKeys


def _transcoder(keys: MemoryPersonalKeys) -> JSONTranscoder:
    transcoder = JSONTranscoder()
    transcoder.register(PersonalDataInTheClear())
    transcoder.register(EncryptedPersonalData(keys))
    return transcoder


def test_personal_data_is_stored_as_ciphertext_and_reads_back():
    keys = MemoryPersonalKeys()
    transcoder = _transcoder(keys)
    stored = transcoder.encode({"email": PersonalData("sara", "sara@x.example")})
    assert b"sara@x.example" not in stored and json.loads(stored)["email"]["_type_"] == "personal"
    assert reveal(transcoder.decode(stored)["email"]) == "sara@x.example"


def test_once_the_key_is_deleted_it_reads_erased_even_where_it_was_decoded_before():
    keys = MemoryPersonalKeys()
    transcoder = _transcoder(keys)
    stored = transcoder.encode(PersonalData("sara", "sara@x.example"))
    held = transcoder.decode(stored)  # as an aggregate cache or a view's decoded row holds it
    assert reveal(held) == "sara@x.example"
    assert keys.erase("sara") == 1
    for read in (held, transcoder.decode(stored)):
        assert (read.erased, reveal(read), str(read), shown(read)) == (True, None, ERASED, ERASED)
    assert transcoder.encode(held) == stored  # written again as the same, now unreadable, ciphertext
    assert json.loads(transcoder.encode(PersonalData.erased_for("sara")))["_data_"] == {"subject": "sara",
                                                                                     "erased": True}


def test_a_ciphertext_moved_to_another_person_does_not_decrypt():
    keys = MemoryPersonalKeys()
    transcoder = _transcoder(keys)
    stored = json.loads(transcoder.encode(PersonalData("sara", "sara@x.example")))
    stored["_data_"]["subject"] = "hana"
    assert transcoder.decode(json.dumps(stored).encode()).erased


def test_what_an_application_without_keys_wrote_is_still_read():
    plain = JSONTranscoder()
    plain.register(PersonalDataInTheClear())
    stored = plain.encode(PersonalData("sara", "sara@x.example"))
    assert reveal(_transcoder(MemoryPersonalKeys()).decode(stored)) == "sara@x.example"


def test_the_value_never_shows_in_a_repr():
    assert "sara@x.example" not in repr(PersonalData("sara", "sara@x.example"))


def test_fields_marked_personal_are_sealed_under_the_subjects_key_and_erased_with_it():
    fields = (Field("contact", str, personal=True), Field("title", str))
    values = seal_personal_fields({"contact": "+386 1 234 5678", "title": "Visit"},
                                  [f.name for f in fields if f.personal], subject="alba")
    keys = MemoryPersonalKeys()
    transcoder = _transcoder(keys)
    stored = transcoder.encode(values)
    assert b"+386 1 234 5678" not in stored and b"Visit" in stored
    assert reveal(transcoder.decode(stored)["contact"]) == "+386 1 234 5678"
    keys.erase("alba")
    assert transcoder.decode(stored) == {"contact": PersonalData.erased_for("alba"), "title": "Visit"}


def test_no_field_is_personal_unless_marked():
    assert Field("notes", str).personal is False
