"""factory_boy factories for the records tests need in bulk."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from kinfolk.people.models import Person
from kinfolk.people.search import keys_for


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=0, maximum_age=17)
    sex = factory.Iterator(["1", "2"])
    org_unit = None  # always given by the test: where the record lies is the point

    @factory.post_generation
    def search_keys(self, create: bool, extracted: object, **kwargs: object) -> None:
        keys = keys_for(self.first_name, self.last_name)
        self.search_first, self.search_last = keys.first, keys.last
        self.search_first_key, self.search_last_key = keys.first_key, keys.last_key
        if create:
            self.save(
                update_fields=["search_first", "search_last", "search_first_key", "search_last_key"]
            )
