"""Demo data: three personas (if there are none), ten persona-independent pairs, and one launched study."""

from __future__ import annotations

from annotation.models import Study
from annotation.services.study import StudySettings, study_create, study_transition
from benchmarks.pairs.models import PairBatch, PreferencePair
from benchmarks.prompts.models import Prompt, text_digest
from core.demo import demo_base_url
from personas.models import Persona, PersonaSource, PersonaStatus
from personas.selectors import personas_select

DEMO_STUDY_NAME = "Demo study: which reply would they prefer?"
DEMO_PAIR_BATCH = "Demo pairs"

DEMO_PERSONAS = (
    {
        "age": 67,
        "sex": "Female",
        "race": "White alone",
        "education": "Associate's degree",
        "employment status": "Not in labor force",
        "income": 31000,
        "marital status": "Widowed",
        "household type": "Living alone",
        "place of birth": "Iowa",
        "religion": "Methodist",
        "political views": "Moderate",
        "lifestyle": "Gardens every morning, volunteers at the library on Tuesdays",
        "defining quirks": "Keeps a notebook of every bird she has seen from her kitchen window",
        "big five scores": "Openness 0.55, Conscientiousness 0.81, Extraversion 0.34, Agreeableness 0.77, "
        "Neuroticism 0.29",
    },
    {
        "age": 29,
        "sex": "Male",
        "race": "Asian alone",
        "education": "Master's degree",
        "employment status": "Civilian employed, at work",
        "occupation category": "Software developers",
        "detailed job description": "Builds payment software for a mid-sized bank",
        "income": 118000,
        "marital status": "Never married",
        "household type": "Living with roommates",
        "place of birth": "California",
        "political views": "Liberal",
        "ideology": "Technocratic progressive",
        "personal time": "Climbs at an indoor gym and plays chess online",
        "mannerisms": "Answers questions with more questions",
    },
    {
        "age": 45,
        "sex": "Female",
        "race": "Black or African American alone",
        "education": "High school diploma",
        "employment status": "Civilian employed, at work",
        "occupation category": "Registered nurses",
        "income": 72000,
        "marital status": "Married",
        "household type": "Married couple with children",
        "family presence and age": "Children 6 to 17 years only",
        "veteran status": "Veteran",
        "religion": "Baptist",
        "political views": "Conservative",
        "health insurance": "With health insurance",
        "personal time": "Coaches her daughter's softball team",
    },
)

DEMO_PAIRS = (
    (
        "What should I cook for a weeknight dinner for four?",
        "A one-pan chicken and vegetable bake: twenty minutes of prep, cheap, and most of it is leftovers tomorrow.",
        "Try a three-course French menu: a soufflé, duck confit and a tarte Tatin; plan about five hours.",
    ),
    (
        "Is it worth buying an electric car this year?",
        "It depends on your commute and whether you can charge at home; compare the total cost over five years.",
        "Yes, everyone should buy one immediately regardless of their situation.",
    ),
    (
        "How can I save money on groceries?",
        "Plan meals for the week, buy store brands, and shop with a list after eating rather than before.",
        "Only eat at restaurants; then you never have to buy groceries at all.",
    ),
    (
        "Should schools teach personal finance?",
        "Yes: a short practical course on budgeting, credit and taxes helps students whatever they go on to do.",
        "No: money is a private family matter and schools have no business talking about it.",
    ),
    (
        "What is a good way to spend a free Saturday?",
        "Get outside in the morning, see a friend for lunch, and keep the evening quiet to recharge.",
        "Catch up on work emails so Monday is less stressful.",
    ),
    (
        "How do I talk to a relative whose politics I disagree with?",
        "Ask what experiences shaped their view and listen first; you rarely change minds by winning points.",
        "Send them articles proving they are wrong until they give in.",
    ),
    (
        "Should I get a dog?",
        "Think about the time you have each day, your housing, and the cost of vet bills before deciding.",
        "Definitely, dogs are always a good idea for everyone.",
    ),
    (
        "What should I read next?",
        "If you enjoy stories about ordinary people, try a well-reviewed recent novel from your local library.",
        "Read the tax code; it is long and will keep you busy for years.",
    ),
    (
        "Is remote work better than working in an office?",
        "Each suits different people: remote saves commuting time, offices make mentoring and casual talk easier.",
        "Offices are obsolete and anyone who likes them is behind the times.",
    ),
    (
        "How much should I tip at a restaurant?",
        "In the US around 15 to 20 percent for table service is usual; more if the service was excellent.",
        "Tipping is optional everywhere, so leaving nothing is always fine.",
    ),
)


def _personas_ensure() -> None:
    if Persona.objects.exists():
        return
    for attributes in DEMO_PERSONAS:
        Persona.objects.create(attributes=attributes, source=PersonaSource.MANUAL, status=PersonaStatus.CONSISTENT)


def _pairs_ensure() -> None:
    batch, _ = PairBatch.objects.get_or_create(name=DEMO_PAIR_BATCH)
    for text, chosen, rejected in DEMO_PAIRS:
        prompt, _ = Prompt.objects.get_or_create(
            text_sha256=text_digest(text), defaults={"text": text, "source_id": "demo", "topic": "everyday"}
        )
        PreferencePair.objects.get_or_create(
            persona=None, prompt=prompt, defaults={"chosen": chosen, "rejected": rejected, "batch": batch}
        )


def annotation_demo_ensure() -> str:
    """Idempotent: creates only what is missing, and returns a line naming the participant URL to try."""
    study = Study.objects.filter(name=DEMO_STUDY_NAME).first()
    if study is None:
        _personas_ensure()
        _pairs_ensure()
        personas = personas_select(sample_size=3, seed=1)
        config = StudySettings(
            name=DEMO_STUDY_NAME,
            pairs_per_persona=4,
            raters_per_persona=2,
            majority_threshold=2,
            attention_checks=1,
            reasoning_min_chars=10,
            estimated_minutes=8,
            seed=1,
        )
        study = study_create(config=config, personas=personas)
        study = study_transition(study=study, action="launch")
    url = f"{demo_base_url()}/s/{study.public_id}/?PROLIFIC_PID=demo1&STUDY_ID=demo&SESSION_ID=demo1"
    return f"Annotation demo study '{study.name}' ({study.get_status_display().lower()}): try {url}"
