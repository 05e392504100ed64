"""Personal columns are recognised however an export names them, in four languages, and person
IDs become keyed hashes whose results do not depend on the key."""

import pandas as pd
import pytest

from evalkit.data.personal import Pseudonymiser, is_person_id, personal_columns


@pytest.mark.parametrize("column", [
    "child_name", "ChildName", "first-name", "Full Name", "surname", "date_of_birth",
    "DateOfBirth", "dateofbirth", "dob", "phone1", "contact_number", "email", "national_id",
    "home address", "case_notes", "gps_latitude", "Client Name",
    # people named by their role
    "caregiver", "guardian", "mother", "father", "hh_head", "head_of_household",
    # French, Spanish
    "nom", "prénom", "date_de_naissance", "téléphone", "adresse", "nombre", "apellido",
    "telefono", "dirección", "whatsapp", "observaciones",
    # Khmer: name of child, date of birth, phone number, address
    "ឈ្មោះកុមារ", "ថ្ងៃខែឆ្នាំកំណើត", "លេខទូរស័ព្ទ", "អាសយដ្ឋាន",
    # KoBo / ODK meta that name a person
    "_submitted_by", "SubmitterName", "group/child_name",
])
def test_personal_columns_are_recognised(column):
    assert personal_columns([column]) == [column]


@pytest.mark.parametrize("column", ["household_size", "household_id", "client_id", "village",
                                    "commune", "assessment_date", "care_type", "home_owner",
                                    "id_poor", "respondent_age", "1A", "Food security",
                                    "caregiver_type", "mother_alive", "respondent_female",
                                    "Assessment Number", "ភូមិ"])
def test_analysis_columns_are_kept(column):
    assert personal_columns([column]) == []


def test_declared_lists_win():
    assert personal_columns(["hh_code", "village"], personal=["HH_code"]) == ["hh_code"]
    assert personal_columns(["caregiver", "notes"], keep=["Caregiver"]) == ["notes"]


@pytest.mark.parametrize("column,expected", [
    ("child_id", True), ("Client ID", True), ("household_id", True), ("hh_id", True),
    ("case_number", True), ("_uuid", True), ("KEY", True), ("village_id", False),
    ("commune_code", False), ("id_poor", False), ("assessment_number", False)])
def test_person_ids_are_recognised(column, expected):
    assert is_person_id(column) is expected


def test_keyed_hashes_are_stable_per_key_and_differ_between_keys(tmp_path):
    ids = pd.Series(["CIF-0001", "CIF-0002", "CIF-0001", None])
    first = Pseudonymiser.for_folder(tmp_path / "a")
    again = Pseudonymiser.for_folder(tmp_path / "a")  # the key is kept in the folder
    other = Pseudonymiser.for_folder(tmp_path / "b")
    h1, h2, h3 = first.hash(ids), again.hash(ids), other.hash(ids)
    assert h1.tolist() == h2.tolist()
    assert h1[0] == h1[2] and h1[0] != h1[1] and pd.isna(h1[3])
    assert h1[0] != h3[0]
    assert not any("CIF" in str(v) for v in h1.dropna())
    assert (tmp_path / "a" / ".evalkit" / "key").stat().st_mode & 0o077 == 0
    assert (tmp_path / "a" / ".evalkit").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("key_length", [1, 32, 64, 65, 100])
def test_keyed_hashes_are_hmac_sha256_computed_by_the_engine(key_length):
    """The engine's hashes equal Python's own HMAC-SHA-256 (RFC 2104, keys longer than the
    64-byte block hashed first), for ASCII, Khmer and spaced IDs, with blanks kept blank and
    the rows' index kept."""
    import hashlib
    import hmac

    key = bytes(range(7, 7 + key_length))
    raw = ["CIF-0001", None, "ក្មេង-០០៧", " C 1 ", "CIF-0001", ""]
    ids = pd.Series(raw, index=[10, 11, 12, 13, 14, 15])
    hashed = Pseudonymiser(key).hash(ids)
    expected = [None if v is None else
                "P" + hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
                for v in raw]
    assert [None if pd.isna(v) else v for v in hashed] == expected
    assert hashed.index.tolist() == ids.index.tolist()
