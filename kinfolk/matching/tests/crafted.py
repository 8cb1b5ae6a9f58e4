"""A handful of hand-made records with the hard cases of child-welfare matching."""

import datetime as dt

from kinfolk.matching.records import PersonRecord

HOME = {"street": "14 Larkspur Lane", "city": "Millbrook", "state": "OH", "postcode": "43001"}

# Twins: same birth date, surname and home; only the first names (and sex) differ.
TWIN_A = PersonRecord("twin-a", "Amara", "", "Okafor", dt.date(2019, 5, 4), "F", **HOME)
TWIN_B = PersonRecord("twin-b", "Chidi", "", "Okafor", dt.date(2019, 5, 4), "M", **HOME)
# One boy recorded twice: the hotline typed a misspelt nickname and day/month swapped.
BOY = PersonRecord("boy", "William", "James", "Hargreave Jr", dt.date(2016, 3, 7), "M", **HOME)
BOY_AGAIN = PersonRecord(
    "boy-again", "Bil", "", "Hargreave", dt.date(2016, 7, 3), "M", postcode="43001"
)
# Unrelated people who share pieces of the above.
MOTHER = PersonRecord("mother", "Denise", "", "Hargreave", dt.date(1988, 11, 2), "F", **HOME)
FATHER = PersonRecord("father", "William", "", "Hargreave Sr", dt.date(1985, 6, 9), "M", **HOME)
STRANGER = PersonRecord(
    "stranger",
    "William",
    "",
    "Peters",
    dt.date(2016, 3, 7),
    "M",
    street="2 Oak Road",
    city="Dayton",
    state="OH",
    postcode="45401",
)
SISTER = PersonRecord("sister", "Maria", "", "Lopez", dt.date(2010, 1, 20), "F", ssn="123456789")
SISTER_MARRIED = PersonRecord(
    "sister-married", "Maria", "", "Lopez-Grant", dt.date(2010, 1, 20), "F", ssn=""
)

CRAFTED = [TWIN_A, TWIN_B, BOY, BOY_AGAIN, MOTHER, FATHER, STRANGER, SISTER, SISTER_MARRIED]
