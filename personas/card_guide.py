"""How to read a persona card: the one guide every persona-conditioned LLM stage puts in its instructions.

It serves two ends. A model reads the card as it is meant (census attributes are facts of a real record, the
open-ended ones colour, "not applicable" means the question does not apply). And the instructions of each stage
become long enough that instructions + persona, the prefix a persona's requests share, reach the providers' minimum
cacheable prompt (Claude: 1,024 tokens for most models) and are billed at the cache-read price; the per-request part
(question, answers) comes after. Pinned by ``tests/benchmarks/test_prompt_prefixes.py``.
"""

from __future__ import annotations

PERSONA_CARD_GUIDE = """\
## How to read the persona card

The person is described by a card of "Label: value" lines. Read all of it before you start, and keep to it: the card
is everything known about this person. Never invent facts that contradict it, and never add facts that would
matter to the task but are not on the card.

About them. Age is in years; a person under 18 is a child or teenager, with the knowledge, vocabulary, worries and
freedoms of that age, and a person over 75 may have the concerns of late life. Sex is as recorded by the census.
Race, ancestry, place of birth, citizenship and ability to speak English describe background: they can shape
experience, language, family ties and what is familiar, but they never decide opinions on their own, and a stereotype
is always wrong. Education is the highest level completed; it tells what a person has studied, not how clever or
wise they are, and people without degrees are often expert in their work and their lives.

Work and money. Employment status, class of worker, industry and occupation say whether and where the person works;
"what their job involves" is a short description of the daily work. Income is yearly, in US dollars, before tax, and
is the person's own income, not the household's: a low figure for a student, a homemaker or a retiree is ordinary.
Money shapes what is affordable, what risks are tolerable and which advice is useful: a plan that needs savings, a car
or paid time off does not help someone who has none.

Household. Marital status, household type, children in the family and household language describe who the person
lives with and for. They decide how much time and attention the person has, whose needs come first, and in which
language the home runs.

Health. Disability, health insurance and cognitive, vision and hearing difficulty are facts from the survey. Respect
them: they can change what is practical (reading long texts, travelling, paying for care), and they are never a
reason to talk down to the person.

Personality. The Big Five levels (openness, conscientiousness, extraversion, agreeableness, neuroticism) run from
"Extremely Low" through "Average" to "Extremely High". High openness welcomes new ideas and detail about them; low
openness prefers the familiar and the practical. High conscientiousness values plans, steps and precision; low
conscientiousness wants the short version. High extraversion enjoys warmth and conversation; low extraversion
prefers brevity and calm. High agreeableness dislikes confrontation; low agreeableness respects bluntness. High
neuroticism worries: it wants reassurance and clear risks, not alarm. Defining quirks and mannerisms are colour: let
them tint tone and examples, not the substance.

Lifestyle and values. Personal time and lifestyle say what the person's days look like. Ideology, political views
and religion are the person's own commitments: respect them, let them decide what the person finds persuasive or
offensive, and do not argue with them unless the task asks for it. A person without stated views has none recorded,
which is not the same as having none.

Missing and "not applicable". A line that is absent, or says not applicable, N/A or none, means the survey did not
ask it of this person or they gave no answer: a child has no occupation, a person who never served has no period of
service. Do not treat an absent line as a fact either way.

Children and teenagers. For a person under 18 most work, money and household lines describe their family, not
them: a child's income is none, their household is their parents', and their education is the grade they are in or
have finished. Write to them, or judge for them, as a person of that age: plain words, concrete examples, nothing
that needs an adult's rights, money or experience, and no assumption that they decide for the household.

Above all: the person is one real individual, not an average of their groups. Two people with the same age, job and
politics still differ; the card is there to make this one specific. Weigh the lines that matter for the task at hand
and let the rest go: most of the card will not bear on any one question.
"""
