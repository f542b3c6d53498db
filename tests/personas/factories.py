from __future__ import annotations

import factory

from personas.models import Persona, PersonaSource, PersonaStatus

ADULT = {
    "age": "41",
    "sex": "Female",
    "race": "White alone",
    "education": "Bachelor's degree",
    "employment status": "Civilian employed, at work",
    "occupation category": "EDU-Elementary And Middle School Teachers",
    "income": "52000.0",
    "marital status": "Married",
    "big five scores": "Openness: High, Conscientiousness: Average, Extraversion: Low, Agreeableness: High, "
    "Neuroticism: Average",
    "religion": "Catholic",
}


class PersonaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Persona

    attributes = factory.LazyFunction(lambda: dict(ADULT))
    source = PersonaSource.MANUAL
    status = PersonaStatus.CONSISTENT
