"""Name vocabularies: Faker's en_US frequency lists, read once, and a curated nickname table.

Faker (a dependency of the dev tools) supplies US first names by sex and the 1,000 most common
surnames, each with a frequency weight (drawn from US Census and SSA name counts). We read those
dictionaries once and sample them with NumPy, instead of calling Faker per record, so naming a
million people costs a few array operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Common English diminutives, curated by hand for this simulator (the pairs every US intake
# worker meets; formal name → usual short forms). Only names in Faker's lists are used.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Will", "Bill", "Billy"),
    "Richard": ("Rick", "Dick", "Rich"), "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Johnny", "Jack"), "Joseph": ("Joe", "Joey"), "Michael": ("Mike", "Mikey"),
    "Thomas": ("Tom", "Tommy"), "Christopher": ("Chris",), "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",), "Anthony": ("Tony",), "Andrew": ("Andy", "Drew"),
    "Joshua": ("Josh",), "Nicholas": ("Nick",), "Jonathan": ("Jon",), "Benjamin": ("Ben",),
    "Samuel": ("Sam", "Sammy"), "Alexander": ("Alex",), "Zachary": ("Zach",),
    "Timothy": ("Tim",), "Edward": ("Ed", "Eddie", "Ted"), "Steven": ("Steve",),
    "Stephen": ("Steve",), "Kenneth": ("Ken", "Kenny"), "Ronald": ("Ron", "Ronnie"),
    "Donald": ("Don", "Donnie"), "Gregory": ("Greg",), "Patrick": ("Pat",),
    "Jeffrey": ("Jeff",), "Gerald": ("Jerry",), "Raymond": ("Ray",),
    "Charles": ("Charlie", "Chuck"),
    "David": ("Dave",), "Jacob": ("Jake",), "Nathaniel": ("Nate", "Nathan"),
    "Elizabeth": ("Liz", "Beth", "Betty", "Lizzie"), "Katherine": ("Kate", "Kathy", "Katie"),
    "Catherine": ("Cathy", "Cate"), "Margaret": ("Maggie", "Peggy", "Meg"),
    "Jennifer": ("Jen", "Jenny"), "Jessica": ("Jess", "Jessie"), "Rebecca": ("Becky", "Becca"),
    "Patricia": ("Patty", "Trish", "Pat"), "Susan": ("Sue", "Susie"), "Deborah": ("Debbie", "Deb"),
    "Christina": ("Tina", "Chris"), "Christine": ("Chris", "Tina"), "Victoria": ("Vicky", "Tori"),
    "Samantha": ("Sam",), "Alexandra": ("Alex", "Sasha"), "Abigail": ("Abby",),
    "Kimberly": ("Kim",), "Stephanie": ("Steph",), "Melissa": ("Missy", "Mel"),
    "Amanda": ("Mandy",), "Cynthia": ("Cindy",), "Pamela": ("Pam",), "Barbara": ("Barb",),
    "Dorothy": ("Dot", "Dottie"), "Theresa": ("Terry", "Tess"), "Kathleen": ("Kathy", "Kate"),
    "Judith": ("Judy",), "Gabrielle": ("Gabby",), "Madison": ("Maddie",), "Olivia": ("Liv",),
    "Isabella": ("Bella", "Izzy"), "Natalie": ("Nat",), "Megan": ("Meg",), "Allison": ("Ally",),
}  # fmt: skip


@dataclass(frozen=True)
class NameTables:
    """Vocabularies as NumPy string arrays with sampling weights, plus nickname lookups."""

    male: np.ndarray
    male_p: np.ndarray
    female: np.ndarray
    female_p: np.ndarray
    last: np.ndarray
    last_p: np.ndarray
    # For each first name (male names first, then female), its nicknames (padded with "").
    first_all: np.ndarray
    nick: np.ndarray  # shape (len(first_all), 4)
    nick_count: np.ndarray


def _weights(items: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    names = np.array(list(items.keys()))
    weights = np.array(list(items.values()), dtype=np.float64)
    return names, weights / weights.sum()


@lru_cache(maxsize=1)
def name_tables() -> NameTables:
    from faker.providers.person.en_US import Provider

    male, male_p = _weights(dict(Provider.first_names_male))
    female, female_p = _weights(dict(Provider.first_names_female))
    last, last_p = _weights(dict(Provider.last_names))
    first_all = np.concatenate([male, female])
    nick = np.full((len(first_all), 4), "", dtype=object)
    nick_count = np.zeros(len(first_all), dtype=np.int64)
    for i, name in enumerate(first_all):
        options = NICKNAMES.get(str(name), ())[:4]
        nick[i, : len(options)] = options
        nick_count[i] = len(options)
    return NameTables(
        male=male,
        male_p=male_p,
        female=female,
        female_p=female_p,
        last=last,
        last_p=last_p,
        first_all=first_all,
        nick=nick,
        nick_count=nick_count,
    )
