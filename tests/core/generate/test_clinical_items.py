"""Case and treatment items from a clinical text written for these tests (disease sections
in the shape of a microbiology chapter, none of them from the shared PDFs)."""

from __future__ import annotations

import re
from dataclasses import replace

from core.generate.cases import case_items, clinical_items, treatment_items
from core.generate.facts import SourceChunk
from core.generate.schema import APPLICATION, RECALL
from core.generate.text import normalise
from storage.enums import ChunkKind

# Every section says "Diagnosis is made by microscopy of a stool sample": a case that quoted
# it would fit every option.
SECTIONS = {
    "Giardiasis": (
        "Giardiasis is caused by Giardia lamblia, and Giardia lamblia spreads in cold water. "
        "Hikers who drink from mountain streams develop greasy stools, flatulence and bloating "
        "one to two weeks after exposure. Weight loss follows when fat absorption fails for "
        "weeks. Diagnosis is made by microscopy of a stool sample. The preferred treatment is "
        "tinidazole for five days."
    ),
    "Amoebiasis": (
        "Amoebiasis is caused by Entamoeba histolytica, and Entamoeba histolytica invades the "
        "colon wall. Bloody diarrhea with cramping and tenesmus develops over several weeks. "
        "A liver abscess causes fever and tenderness below the right ribs. Diagnosis is made "
        "by microscopy of a stool sample. The first-line treatment is paromomycin after the "
        "abscess is drained."
    ),
    "Cholera": (
        "Cholera is caused by Vibrio cholerae, and Vibrio cholerae thrives in brackish "
        "estuaries. Profuse rice-water diarrhea causes rapid dehydration within hours. Sunken "
        "eyes, thirst and muscle cramps appear as electrolytes are lost. Diagnosis is made by "
        "microscopy of a stool sample. Rehydration saves lives, and doxycycline shortens "
        "the illness."
    ),
    "Hepatitis": (
        "Hepatitis of this kind spreads through shared needles and transfusions. Jaundice, "
        "dark urine and pale stools appear after months of fatigue. Cirrhosis, ascites and "
        "jaundice develop in chronic carriers after decades. Diagnosis is made by microscopy "
        "of a stool sample. "
        "Chronic infection is treated with sofosbuvir for twelve weeks."
    ),
    "Shigellosis": (
        "Shigellosis is caused by Shigella dysenteriae, and Shigella dysenteriae spreads in "
        "crowded nurseries. Small bloody stools with high fever, vomiting and seizures "
        "appear within two days. Toddlers in daycare centres pass it on through soiled "
        "hands. Diagnosis is made by microscopy of a stool sample. Severe illness is treated with "
        "ciprofloxacin for three days."
    ),
    "Ascariasis": (
        "Ascariasis is caused by Ascaris lumbricoides, and Ascaris lumbricoides eggs survive "
        "in farm soil. Wheezing and coughing precede abdominal swelling as larvae migrate "
        "through the lungs. Intestinal obstruction occurs in heavily infected toddlers. "
        "Diagnosis is made by microscopy of a stool sample. A single dose of mebendazole "
        "is the usual treatment."
    ),
    "Tapeworms": (
        "Taenia solium is acquired from undercooked pork, and Taenia solium lives in the gut. "
        "Diphyllobothrium latum is acquired from raw salmon, and Diphyllobothrium latum "
        "causes vitamin deficiency with anemia. Segments appear in stools after months of "
        "mild discomfort. Diagnosis is made by microscopy of a stool sample. Treatment with "
        "praziquantel clears the worms."
    ),
}


def chapter() -> list[SourceChunk]:
    return [
        SourceChunk(
            id=index + 1,
            material_id=1,
            ordinal=index,
            kind=ChunkKind.BODY,
            text=f"{title}\n{text}",
            page_start=10 + index,
            page_end=10 + index,
            heading=f"Infections of the Gut › {title}",
        )
        for index, (title, text) in enumerate(SECTIONS.items())
    ]


def test_a_case_describes_its_disease_without_naming_it_and_asks_among_siblings() -> None:
    items = list(case_items(chapter(), seed=3, difficulty=3))

    assert items, "a chapter of disease sections gives cases"
    for item in items:
        key = item.options[item.correct_index]
        assert APPLICATION in item.flags
        assert item.stem.endswith(("most likely cause?", "most likely diagnosis?"))
        # A patient with findings, not the book's sentences on how the disease is tested
        # for or treated.
        told = item.stem.split(" Which of the following")[0]
        assert told.startswith("A patient has "), item.stem
        assert not re.search(r"\b(diagnosis|microscopy|treat\w*)\b", told, re.I), told
        # Neither the key nor any option is named in the description.
        for option in item.options:
            first = re.findall(r"[A-Za-z]{5,}", option)[0].lower()
            assert first[:5] not in normalise(item.stem), (option, item.stem)
        assert len(set(item.options)) == len(item.options)
        assert item.topic in SECTIONS and item.source_pages
        assert key in " ".join(SECTIONS[item.topic].split()) or item.topic == key


def test_a_case_offers_only_diseases_of_its_own_section_family() -> None:
    # The same diseases, with the worms under a heading of their own: a worm's case must not
    # offer a bacterium's disease, which its own description (larvae, eggs) rules out.
    chunks = chapter()
    worms = {"Ascariasis", "Tapeworms", "Amoebiasis"}
    chunks = [
        replace(c, heading=f"Worms and Amoebae › {c.heading.split(' › ')[-1]}")
        if c.heading.split(" › ")[-1] in worms
        else c
        for c in chunks
    ]
    items = [i for seed in range(4) for i in case_items(chunks, seed=seed, difficulty=3)]

    assert items
    for item in items:
        family = worms if item.topic in worms else set(SECTIONS) - worms
        for option in item.options:
            section = next(t for t in SECTIONS if option in (t, *_organisms_of(t)))
            assert section in family, (item.topic, item.options)


def _organisms_of(title: str) -> list[str]:
    return re.findall(r"\b[A-Z][a-z]+ [a-z]{4,}\b", SECTIONS[title])


def test_a_sentence_every_section_shares_is_no_clue_and_never_makes_a_case() -> None:
    for item in case_items(chapter(), seed=3, difficulty=3):
        assert "microscopy of a stool sample" not in item.stem


def test_a_section_on_several_organisms_gives_no_single_cause() -> None:
    items = list(case_items(chapter(), seed=3, difficulty=3))

    assert not any(item.topic == "Tapeworms" for item in items)
    assert not any("Taenia solium" in item.options for item in items)


def test_a_treatment_item_asks_a_drug_only_its_disease_names_among_other_classes() -> None:
    items = list(treatment_items(chapter(), seed=3, difficulty=3))

    assert items
    for item in items:
        key = item.options[item.correct_index]
        assert RECALL in item.flags
        assert item.stem.startswith("Which of the following drugs is used to treat")
        assert key in SECTIONS[item.topic] and item.support and key in item.support
        for option in item.options:
            named_by = [title for title, text in SECTIONS.items() if option in text]
            assert named_by == ([item.topic] if option == key else named_by)
            if option != key:
                assert item.topic not in named_by, (option, item.topic)
        # Two antibacterials for one infection might both be right: one drug of a class.
        classes = [bool(re.search(r"cycline|mycin|cillin", o)) for o in item.options]
        assert sum(classes) <= 1 or not classes[item.correct_index]


def _chunks(sections: dict[str, str]) -> list[SourceChunk]:
    return [
        SourceChunk(
            index + 1, 1, index, ChunkKind.BODY, f"{title}\n{text}", 5, 5, f"Part › {title}"
        )
        for index, (title, text) in enumerate(sections.items())
    ]


WASTING = (
    "Patients lose weight and develop fever with drenching night sweats. Painful swelling of "
    "the neck glands follows within weeks. Chronic cough and fatigue persist for months."
)


def test_a_plain_title_whose_section_describes_patients_is_a_disease_in_a_clinical_text() -> None:
    clinical = _chunks({**SECTIONS, "Marsh Wasting": WASTING})
    diagnoses = {
        option
        for seed in range(6)
        for item in case_items(clinical, seed=seed, difficulty=3)
        if item.stem.endswith("diagnosis?")
        for option in item.options
    }
    assert "Marsh Wasting" in diagnoses


def test_physiology_sections_that_mention_symptoms_are_no_diseases() -> None:
    # Each describes what an excess of its hormone does to a patient, in words no other
    # section uses: in a clinical text these would be cases; here nothing names a disease.
    glands = ["Vasopressin", "Somatotropin", "Cortisol", "Thyroxine", "Insulin"]
    clues = ["thirst", "giantism", "bronzing", "tremor", "ketones"]
    signs = ["cramping", "sweating", "pallor", "hiccups", "blisters"]
    physiology = _chunks(
        {
            gland: (
                f"Excess secretion causes {clue} with fever and pain in patients. Symptoms "
                f"of {clue} include {sign} and weight loss. Signs of {sign} fade after rest."
            )
            for gland, clue, sign in zip(glands, clues, signs, strict=True)
        }
    )
    assert list(case_items(physiology, seed=1, difficulty=3)) == []


# More of what a patient shows, so each disease has sentences left after its cause and its
# diagnosis were asked.
MORE_FINDINGS = {
    "Giardiasis": (
        "Symptoms include foul floating stools, cramps and abdominal distension. Signs include "
        "sulphurous belching and lactose intolerance for months. Symptoms include pale "
        "steatorrhoea that is hard to flush. Signs include vitamin deficiency with night "
        "blindness in children."
    ),
    "Amoebiasis": (
        "Signs include tenesmus, weight loss and mucoid stools with flecks of blood. Symptoms "
        "include pleuritic pain and hepatomegaly below the ribs. Signs include flask-shaped "
        "ulcers seen on colonoscopy. Symptoms include anchovy-paste pus from a drained cavity."
    ),
    "Hepatitis": (
        "Signs include itching skin, nausea and tea-coloured urine. Symptoms include anorexia and "
        "arthralgia of small joints. Signs include spider naevi and ascites in late stages. "
        "Symptoms include confusion and asterixis when the liver fails."
    ),
    "Shigellosis": (
        "Symptoms include painful straining, chills and febrile convulsions. Signs include rectal "
        "prolapse in straining toddlers. Symptoms include meningism and haemolysis in some "
        "children. Signs include reactive arthritis weeks after recovery."
    ),
    "Ascariasis": (
        "Symptoms include colicky pain, vomiting and stunted growth. Signs include biliary "
        "colic and pancreatitis in adults. Symptoms include eosinophilic pneumonitis with "
        "wheezing at night. Signs include malnutrition and poor school performance."
    ),
}


def test_a_case_can_ask_which_drug_treats_it_and_then_its_treatment_is_not_asked_by_name() -> None:
    rich = {title: f"{text} {MORE_FINDINGS.get(title, '')}" for title, text in SECTIONS.items()}

    items = list(clinical_items(_chunks(rich), seed=3, difficulty=3))

    treating = [i for i in items if i.stem.endswith("used to treat this illness?")]
    assert treating, "sections with sentences left give treatment cases"
    for item in treating:
        key = item.options[item.correct_index]
        assert APPLICATION in item.flags and key in rich[item.topic]
        assert not any(option in item.stem for option in item.options)
        # The disease is never named, and no recall item asks its treatment by name.
        assert item.topic.lower() not in item.stem.lower()
        assert not any(
            other.stem.startswith("Which of the following drugs is used to treat")
            and other.topic == item.topic
            for other in items
        )


def test_a_quiz_meets_every_disease_once_before_it_meets_one_twice() -> None:
    rich = {title: f"{text} {MORE_FINDINGS.get(title, '')}" for title, text in SECTIONS.items()}

    topics = [item.topic for item in clinical_items(_chunks(rich), seed=3, difficulty=3)]

    first_seen = [i for i, topic in enumerate(topics) if topic not in topics[:i]]
    seen_again = [i for i, topic in enumerate(topics) if topic in topics[:i]]
    assert seen_again, "sections with sentences left give second items"
    assert max(first_seen) < min(seen_again), topics


def test_a_disease_named_by_a_title_cased_heading_is_offered_as_the_text_writes_it() -> None:
    titled = {
        ("Brackish Water Fever" if title == "Cholera" else title): text.replace(
            "Cholera is caused", "Brackish water fever is caused"
        )
        for title, text in SECTIONS.items()
    }

    options = {
        option
        for item in clinical_items(_chunks(titled), seed=3, difficulty=3)
        for option in item.options
    }

    assert "Brackish water fever" in options and "Brackish Water Fever" not in options


def test_a_case_never_leaves_its_key_the_odd_one_out_among_alike_names() -> None:
    # Three sections titled "Gastroenteritis caused by ...": a case of hepatitis offers at
    # most one of them, or the key is told by its shape alone.
    alike = {"Giardiasis": "giardias", "Cholera": "vibrios", "Shigellosis": "shigellae"}
    chunks = []
    for chunk in chapter():
        title = chunk.heading.split(" › ")[-1]
        if title in alike:
            name = f"Gastroenteritis caused by {alike[title]}"
            chunk = replace(chunk, heading=f"Infections of the Gut › {name}")
        chunks.append(chunk)
    items = [i for seed in range(6) for i in case_items(chunks, seed=seed, difficulty=3)]

    assert any(i.options[i.correct_index] == "Hepatitis" for i in items)
    for item in items:
        key = item.options[item.correct_index]
        if key.startswith("Gastroenteritis"):
            continue
        shaped = [o for o in item.options if o.startswith("Gastroenteritis caused by")]
        assert len(shaped) <= 1, item.options


def test_the_later_course_of_a_disease_is_no_finding_of_the_case() -> None:
    # "Cirrhosis, ascites and jaundice develop in chronic carriers after decades": what may
    # come decades later is not what the patient presents with.
    told = [
        item.stem
        for seed in range(8)
        for item in case_items(chapter(), seed=seed, difficulty=3)
        if item.topic == "Hepatitis"
    ]
    assert told
    assert not any("cirrhosis" in stem.lower() for stem in told), told


def test_a_case_explanation_quotes_no_link_the_student_cannot_follow() -> None:
    linked = [
        replace(c, text=c.text.replace("invades the colon wall", "invades the colon wall "
                                       "(the related section)"))
        for c in chapter()
    ]  # fmt: skip
    items = [i for seed in range(6) for i in case_items(linked, seed=seed, difficulty=3)]
    assert any(i.topic == "Amoebiasis" for i in items)
    for item in items:
        assert "related section" not in item.explanation, item.explanation


def test_a_findings_list_is_used_even_when_its_sentence_names_the_cause() -> None:
    # Every findings sentence of this section names its organism: the case takes the list
    # alone, and the name never reaches the stem.
    named = {
        **SECTIONS,
        "Brucellosis": (
            "Brucellosis is caused by Brucella melitensis, which lives in goats. Brucella "
            "melitensis causes undulant fever, drenching sweats, and aching joints. Infection "
            "with Brucella melitensis also brings testicular swelling and backache. Raw goat "
            "cheese is the usual source. Doxycycline with rifampin is the preferred treatment."
        ),
    }
    stems = [
        item.stem
        for seed in range(6)
        for item in case_items(_chunks(named), seed=seed, difficulty=3)
        if item.topic == "Brucellosis"
    ]
    assert any("undulant fever" in stem for stem in stems), stems
    assert not any("brucell" in stem.lower() or "melitensis" in stem for stem in stems)


def test_a_case_shows_three_findings_each_said_once() -> None:
    stems = [
        item.stem
        for seed in range(6)
        for item in clinical_items(_chunks(SECTIONS), seed=seed, difficulty=3)
        if item.stem.startswith("A patient has")
    ]
    assert stems
    for stem in stems:
        findings = re.split(
            r",\s*(?:and\s+)?|\s+and\s+", stem.split(".")[0][len("A patient has ") :]
        )
        assert len(findings) >= 3, stem
        assert len({f.split()[-1] for f in findings}) == len(findings) or len(findings) > 3, stem


def test_a_drug_for_one_type_of_an_illness_is_not_asked_for_the_illness() -> None:
    typed = {
        **SECTIONS,
        "Hepatitis": SECTIONS["Hepatitis"].replace(
            "Chronic infection is treated with sofosbuvir",
            "Hepatitis C is treated with sofosbuvir",
        ),
    }
    items = [
        i for seed in range(6) for i in treatment_items(_chunks(typed), seed=seed, difficulty=3)
    ]
    assert items, "the other sections still give treatment items"
    assert not any(i.options[i.correct_index] == "sofosbuvir" for i in items)


def test_which_organism_causes_a_disease_is_asked_only_when_the_names_do_not_tell() -> None:
    sections = {
        **SECTIONS,
        "Swamp Fever": (
            "Swamp fever is caused by Leptospira paludis, and rats shed Leptospira paludis "
            "into still water. "
            "Waders develop fever, calf pain, and red eyes within two weeks. Doxycycline is "
            "the preferred treatment."
        ),
    }
    items = [
        item
        for seed in range(6)
        for item in clinical_items(_chunks(sections), seed=seed, difficulty=3)
        if item.stem.startswith("Which of the following organisms causes")
    ]
    asked = {item.topic for item in items}
    assert "Swamp Fever" in asked
    # "giardiasis" spells Giardia, "amoebiasis" Entamoeba: no item at all.
    assert not asked & {"Giardiasis", "Amoebiasis", "Shigellosis", "Ascariasis"}
    for item in items:
        assert item.options[item.correct_index] in sections[item.topic]
        others = [o for i, o in enumerate(item.options) if i != item.correct_index]
        assert not any(o in sections[item.topic] for o in others), item.options


def test_treatment_distractors_are_of_different_drug_classes() -> None:
    azoles = {
        **SECTIONS,
        "Hookworm": (
            "Hookworm infection follows barefoot walking on soil where larvae wait. Anemia, "
            "fatigue, and an itchy rash on the feet develop over months. Albendazole is the "
            "preferred treatment."
        ),
        "Trench Mouth": (
            "Trench mouth follows poor hygiene and stress in young adults. Painful gums, foul "
            "breath, and grey ulcers appear within days. Metronidazole is the preferred "
            "treatment, and tinidazole is effective as well."
        ),
    }
    items = [
        i
        for seed in range(8)
        for i in clinical_items(_chunks(azoles), seed=seed, difficulty=3)
        if "drugs is used to treat" in i.stem
    ]
    assert items
    for item in items:
        distractors = [o for i, o in enumerate(item.options) if i != item.correct_index]
        assert sum(o.endswith("azole") for o in distractors) <= 1, item.options


def test_a_drug_several_diseases_share_is_asked_once_and_never_offered_against_them() -> None:
    shared = {
        **SECTIONS,
        "Ancylostomiasis": (
            "Ancylostomiasis follows barefoot walking on soil where larvae wait. Anemia, "
            "fatigue, and an itchy rash on the feet develop over months. Albendazole is the "
            "preferred treatment."
        ),
        "Trichuriasis": (
            "Trichuriasis eggs are swallowed with soil on unwashed vegetables. Bloody stools, "
            "rectal prolapse, and anemia appear in heavy infections. Albendazole is the "
            "preferred treatment."
        ),
    }
    items = [
        i
        for i in treatment_items(_chunks(shared), seed=3, difficulty=3)
        if "albendazole" in i.options
    ]
    keyed = [i for i in items if i.options[i.correct_index] == "albendazole"]
    assert len(keyed) == 1 and keyed[0].topic in ("Ancylostomiasis", "Trichuriasis")
    # Offered as a distractor, it is never offered against a worm it treats.
    assert not any(i.topic in ("Ancylostomiasis", "Trichuriasis") for i in items if i not in keyed)


def test_where_diseases_come_in_families_treatment_distractors_treat_another_family() -> None:
    worms = {"Ascariasis", "Ancylostomiasis", "Trichuriasis"}
    families = {
        **SECTIONS,
        "Ancylostomiasis": (
            "Ancylostomiasis follows barefoot walking on soil where larvae wait. Anemia, "
            "fatigue, and an itchy rash on the feet develop over months. Ivermectin is the "
            "preferred treatment."
        ),
        "Trichuriasis": (
            "Trichuriasis eggs are swallowed with soil on unwashed vegetables. Bloody stools, "
            "rectal prolapse, and anemia appear in heavy infections. Niclosamide is the "
            "preferred treatment."
        ),
    }
    chunks = [
        replace(
            chunk,
            heading=f"{'Worm' if chunk.text.split(chr(10))[0] in worms else 'Microbe'} "
            f"Infections › {chunk.text.split(chr(10))[0]}",
        )
        for chunk in _chunks(families)
    ]
    worm_drugs = {"mebendazole", "ivermectin", "niclosamide"}
    items = [i for seed in range(6) for i in treatment_items(chunks, seed=seed, difficulty=3)]
    assert any(i.topic in worms for i in items)
    for item in items:
        distractors = {o for k, o in enumerate(item.options) if k != item.correct_index}
        if item.topic in worms:
            assert not distractors & worm_drugs, item.options
