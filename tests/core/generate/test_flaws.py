"""Flaw detectors on items written for these tests (not the graded set): each rule must
catch the flaw a reviewer would name, and leave a sound item of the same shape alone."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from core.generate.flaws import (
    FlawContext,
    asked_category,
    book_questions_of,
    epithets_of,
    named_as_other,
    off_group_distractors,
    shares_root,
)
from core.generate.kinds import (
    build_lexicon,
    head_of,
    kind_from_definition,
    same_kind,
    shape_family,
)
from core.generate.schema import DraftItem
from core.generate.validate import (
    DISTRACTORS_OF_KEY_KIND,
    FOCUSED_LEAD_IN,
    KEY_NOT_ALONE_OF_ITS_KIND,
    KEY_NOT_LONGEST,
    NO_BROKEN_TEXT,
    NO_CATEGORY_DISTRACTOR,
    NO_CUE_TO_KEY,
    NOT_A_REVIEW_QUESTION,
    STEM_IS_QUESTION,
    ValidationContext,
    failed_rules,
)

DIGESTION = {
    "pepsin": "enzyme that digests proteins in the acidic stomach",
    "lipase": "enzyme that breaks down dietary fats into fatty acids",
    "amylase": "enzyme that digests starch into sugars",
    "trypsin": "enzyme secreted by the pancreas that digests proteins in the small intestine",
    "gastritis": "inflammation of the stomach lining",
    "duodenum": "first part of the small intestine, which receives bile",
    "pylorus": "opening between the stomach and the duodenum",
}
BODY = [
    "Giardia lamblia is a protozoan that spreads through contaminated water. "
    "Infection with G. lamblia causes greasy stools. Entamoeba histolytica causes "
    "dysentery, and E. histolytica cysts survive in water.",
]


def context(
    definitions: dict[str, str] | None = None, book: list[str] | None = None
) -> ValidationContext:
    lexicon = build_lexicon(definitions or DIGESTION)
    return ValidationContext(
        require_explanation=False,
        require_source=False,
        flaws=FlawContext(
            lexicon=lexicon,
            epithets=epithets_of(BODY),
            book_questions=book_questions_of(book or []),
        ),
    )


def fails(stem: str, options: list[str], key: int = 0, **kwargs: Any) -> list[str]:
    return failed_rules(DraftItem(stem, tuple(options), key), context(**kwargs))


def test_a_distractor_of_another_kind_than_the_key_is_caught_and_a_sibling_is_not() -> None:
    stem = "Which of the following is the enzyme that digests proteins in the acidic stomach?"
    off_kind = fails(stem, ["pepsin", "lipase", "amylase", "gastritis"])
    assert DISTRACTORS_OF_KEY_KIND in off_kind
    assert fails(stem, ["pepsin", "lipase", "amylase", "trypsin"]) == []


def test_defining_a_named_vein_with_an_arterys_definition_is_another_kind() -> None:
    stem = 'Which of the following best defines "saphenous vein"?'
    options = [
        "superficial vessel that drains the medial leg and empties into the femoral vein",
        "superficial vessel that drains the lateral foot and runs up the back of the calf",
        "deep vessel that accompanies the tibial artery in the calf",
        "branch of the femoral artery that supplies the muscles of the thigh",
    ]
    assert DISTRACTORS_OF_KEY_KIND in fails(stem, options)
    # A vein beside veins, and a name that does not say its kind, are not caught.
    options[3] = "large vessel that carries blood from the pelvis back toward the heart"
    assert DISTRACTORS_OF_KEY_KIND not in fails(stem, options)
    assert DISTRACTORS_OF_KEY_KIND not in fails(
        'Which of the following best defines "popliteal fossa"?',
        ["diamond-shaped hollow behind the knee", "branch of the femoral artery", *options[:2]],
    )


def test_a_key_that_is_the_only_option_of_its_kind_is_answerable_without_knowledge() -> None:
    stem = "Which of the following is the enzyme that digests starch into sugars?"
    failed = fails(stem, ["amylase", "gastritis", "duodenum", "pylorus"])
    assert KEY_NOT_ALONE_OF_ITS_KIND in failed and DISTRACTORS_OF_KEY_KIND in failed


def test_a_stem_word_whose_root_reappears_only_in_the_key_is_a_cue() -> None:
    stem = "Which of the following carries urine through the tubular part of the nephron?"
    assert NO_CUE_TO_KEY in fails(stem, ["renal tubule", "ureter", "urethra", "bladder"])
    # The same root in a distractor too is no longer a giveaway.
    assert NO_CUE_TO_KEY not in fails(
        stem, ["renal tubule", "collecting tubule", "urethra", "bladder"]
    )


def test_any_word_of_a_defined_term_echoed_only_by_the_key_is_a_cue() -> None:
    # "place" is an everyday word, but the student asked to define "spawning place" picks the
    # one definition that says "place".
    stem = 'Which of the following best defines "spawning place"?'
    options = [
        "place on the reef where the fish release their eggs each spring",
        "stretch of river that the young fish swim down to reach the sea",
        "season in which the adult fish stop feeding",
        "layer of gravel that covers the buried eggs",
    ]
    assert NO_CUE_TO_KEY in fails(stem, options)
    # Outside a quoted term an everyday word's root is no clue ("placement" is not "place"),
    # but a key name repeating the word whole is.
    stem = "Which of the following is the place on the reef where fish release their eggs?"
    assert NO_CUE_TO_KEY not in fails(
        stem, ["spawning placement", "nursery reach", "resting season", "redd gravel"]
    )
    assert NO_CUE_TO_KEY in fails(
        stem, ["spawning place", "nursery reach", "resting season", "redd gravel"]
    )


def test_the_very_word_of_the_stem_in_the_key_alone_is_a_cue_beside_mere_roots() -> None:
    # Every option shares the root "glaci-", but only the key repeats "glaciers".
    stem = "Which of the following are the small glaciers that feed a valley glacier?"
    options = ["glacial tills", "glaciations", "glaciologists", "cirque glaciers"]
    assert NO_CUE_TO_KEY in fails(stem, options, key=3)
    options = ["glacial tills", "piedmont glaciers", "glaciologists", "cirque glaciers"]
    assert NO_CUE_TO_KEY not in fails(stem, options, key=3)


def test_an_everyday_word_the_key_name_alone_repeats_is_a_cue() -> None:
    stem = "Which of the following is the level below which the ground is saturated with water?"
    assert NO_CUE_TO_KEY in fails(stem, ["water table", "aquifer", "bedrock", "floodplain"])
    # Echoed by a distractor too, the word singles nothing out.
    assert NO_CUE_TO_KEY not in fails(stem, ["water table", "water gap", "bedrock", "floodplain"])


def test_a_definition_alone_in_the_number_of_the_defined_term_is_a_cue() -> None:
    stem = 'Which of the following best defines "moraines"?'
    options = [
        "ridges of rock debris left at the edges of a glacier",
        "bowl carved at the head of a valley by ice",
        "crack that opens in the surface of moving ice",
        "lake that fills a hollow left by buried ice",
    ]
    assert NO_CUE_TO_KEY in fails(stem, options)
    options[1] = "bowls carved at the heads of valleys by ice"
    assert NO_CUE_TO_KEY not in fails(stem, options)


def test_a_plain_word_that_glosses_the_keys_word_part_is_a_cue() -> None:
    stem = "Which of the following is the inflammation of the liver seen after a viral illness?"
    assert NO_CUE_TO_KEY in fails(stem, ["hepatitis", "nephritis", "gastritis", "colitis"])
    case = "Which of the following is most likely after a viral illness with dark urine?"
    assert NO_CUE_TO_KEY not in fails(case, ["hepatitis", "nephritis", "gastritis", "colitis"])


def test_an_abbreviation_that_spells_the_key_is_a_cue() -> None:
    stem = "Which of the following is the SV, the volume ejected by the ventricle per beat?"
    options = ["stroke volume", "end diastolic volume", "cardiac output", "residual volume"]
    assert NO_CUE_TO_KEY in fails(stem, options)


def test_number_agreement_that_fits_only_the_key_is_a_cue() -> None:
    stem = "Which of the following are the folds that line the small intestine?"
    assert NO_CUE_TO_KEY in fails(stem, ["villi", "duodenum", "pylorus", "cecum"])


def test_a_fill_in_the_blank_line_is_not_a_question() -> None:
    assert STEM_IS_QUESTION in fails("The ________ digests starch.", ["amylase", "lipase"] * 2)


def test_a_lead_in_pointing_at_unseen_text_or_asking_for_an_example_is_unfocused() -> None:
    assert FOCUSED_LEAD_IN in fails(
        "Eggs are visible in these samples; which of the following is the parasite?",
        ["tapeworm", "roundworm", "fluke", "pinworm"],
    )
    assert FOCUSED_LEAD_IN in fails(
        "Which of the following is an example of an enzyme?",
        ["pepsin", "lipase", "amylase", "trypsin"],
    )
    vignette = (
        "A 34-year-old woman has had greasy stools for two weeks after a camping trip. "
        "This patient most likely drank contaminated water. Which of the following is the "
        "most likely cause of this patient's symptoms?"
    )
    organisms = ["Giardia lamblia", "Entamoeba histolytica", "Vibrio cholerae", "Shigella sonnei"]
    assert fails(vignette, organisms) == []


def test_a_species_name_without_its_genus_is_broken_text_and_off_kind() -> None:
    failed = fails(
        "Which of the following organisms causes dysentery with cysts that survive in water?",
        ["Entamoeba histolytica", "lamblia", "Vibrio cholerae", "Shigella sonnei"],
    )
    assert NO_BROKEN_TEXT in failed and DISTRACTORS_OF_KEY_KIND in failed


def test_a_bare_category_among_named_options_is_caught() -> None:
    failed = fails(
        "Which of the following organisms causes greasy stools after drinking stream water?",
        ["Giardia lamblia", "foodborne pathogens", "Vibrio cholerae", "Shigella sonnei"],
    )
    assert NO_CATEGORY_DISTRACTOR in failed


def test_a_restated_book_question_is_a_copy_whatever_its_word_order() -> None:
    book = ["Hardened plaque on the teeth is called dental calculus or ________."]
    copied = "Plaque that has hardened on the teeth, also called dental calculus, is what?"
    options = ["tartar", "enamel", "dentin", "cementum"]
    assert NOT_A_REVIEW_QUESTION in fails(copied, options, book=book)
    fresh = "Which of the following deposits forms when bacterial biofilm mineralises?"
    assert NOT_A_REVIEW_QUESTION not in fails(fresh, options, book=book)


def test_the_fact_a_book_question_asks_asked_again_with_its_option_as_key_is_a_copy() -> None:
    book = [
        "22. Which of these is a vasodilator?\na. angiotensin II\nb. nitric oxide\n"
        "c. endothelin\nd. aldosterone\n"
        "23. The gut is separated from the skin by layers of tissue called ________.\n"
        "a. serosa\nb. mucosa\nc. villi\nd. crypts"
    ]
    options = ["nitric oxide", "endothelin", "angiotensin II", "renin"]
    # Reworded, and longer than the book's five-word question, but the same fact and key.
    reworded = "Which of the following is a local vasodilator released by the endothelium?"
    assert NOT_A_REVIEW_QUESTION in fails(reworded, options, key=0, book=book)
    # A definition item on a term the book asks about, in the book's own words.
    assert NOT_A_REVIEW_QUESTION in fails(
        'Which of the following best defines "mucosa"?',
        ["layer of tissue lining the gut", "layer under the skin", "outer layer", "fold"],
        book=book,
    )
    # The same word with a key the book does not offer, or the same key asked about
    # something else, is a question of its own.
    assert NOT_A_REVIEW_QUESTION not in fails(
        reworded, ["bradykinin", "endothelin", "renin", "ADH"], key=0, book=book
    )
    assert NOT_A_REVIEW_QUESTION not in fails(
        "Which of the following gas is inhaled to treat pulmonary hypertension in newborns?",
        options,
        key=0,
        book=book,
    )


def test_a_book_question_restated_in_words_of_the_same_root_is_a_copy() -> None:
    book = [
        "11. The taking in of antigen and digesting it for later presentation is called "
        "________.\na. antigen presentation\nb. antigen processing\nc. endocytosis\n"
        "d. exocytosis\n"
        "12. T cells that secrete cytokines that help antibody responses are called ________.\n"
        "a. Th1\nb. Th2\nc. regulatory T cells\nd. thymocytes"
    ]
    definitions = [
        "internalization and digestion of antigen in an antigen-presenting cell",
        "movement of material into the cell in vesicles",
        "display of antigen fragments on the cell surface",
        "release of material from the cell in vesicles",
    ]
    assert NOT_A_REVIEW_QUESTION in fails(
        'Which of the following best defines "antigen processing"?', definitions, book=book
    )
    # The option printed as "Th2" is the key "Th2 cells".
    assert NOT_A_REVIEW_QUESTION in fails(
        "Which of the following are the cells that secrete cytokines that help B cells make "
        "antibody?",
        ["Th2 cells", "memory T cells", "plasma cells", "NK cells"],
        book=book,
    )
    # The same key asked about something the book's question does not ask is no copy.
    assert NOT_A_REVIEW_QUESTION not in fails(
        "Which of the following cells are the target of the virus that causes AIDS?",
        ["Th2 cells", "memory T cells", "plasma cells", "NK cells"],
        book=book,
    )


def test_a_name_spelled_by_the_stem_is_a_cue_however_short_or_hyphenated() -> None:
    # "thyroid-stimulating" holds "thyroid", which only the key's definition repeats.
    assert NO_CUE_TO_KEY in fails(
        'Which of the following best defines "thyroid-stimulating hormone"?',
        [
            "pituitary hormone that triggers secretion of thyroid hormones",
            "pituitary hormone that promotes tissue building",
            "pituitary hormone that stimulates the maturation of sex cells",
            "hypothalamic hormone that signals the kidneys to keep water",
        ],
    )
    # "fas" is short but no everyday word: the key is the only option that says it.
    stem = "Which of the following molecules binds the fas molecule on a target cell?"
    assert NO_CUE_TO_KEY in fails(stem, ["fas ligand", "perforin", "granzyme", "chemokine"])
    # A plain word for a word part of the key alone: milk -> "lact-".
    assert NO_CUE_TO_KEY in fails(
        "Which of the following hormones promotes milk production by the mammary glands?",
        ["prolactin", "oxytocin", "somatotropin", "corticotropin"],
    )
    # An everyday short word ("arm") or a part shared with a distractor is no cue.
    assert NO_CUE_TO_KEY not in fails(
        "Which of the following vessels runs along the arm?",
        ["brachial artery", "arm vein", "radial artery", "ulnar artery"],
    )
    assert NO_CUE_TO_KEY not in fails(
        "Which of the following hormones promotes milk production by the mammary glands?",
        ["prolactin", "lactogen", "somatotropin", "corticotropin"],
    )


def test_the_head_noun_of_a_definition_names_its_kind() -> None:
    assert head_of("valves located between the atria and ventricles") == "valve"
    assert head_of("group of specialized conducting cells that transmit the impulse") == "cell"
    assert head_of("one of the primary pumping chambers of the heart") == "chamber"
    assert head_of("upper or receiving chamber of the heart") == "chamber"
    developing = kind_from_definition("develops into the posterior portion of the right atrium")
    assert developing.developmental and developing.family == "structure"


def test_the_category_a_stem_asks_for_survives_commas_and_adjectives() -> None:
    assert head_of("a large, thin-walled vein on the posterior surface") == "vein"
    assert head_of("broad-spectrum, bacteriostatic drugs that block elongation") == "drug"
    # A list names several kinds and has no one head; "whereby" opens a clause.
    assert head_of("heart, lungs and liver") == ""
    assert head_of("cells, tissues, and organs that secrete substances") == ""
    assert head_of("network of lymphatic vessels, lymph nodes, and ducts") == "network"
    assert head_of("process whereby B cells that react to antigens are silenced") == "process"
    assert asked_category("the large arterial vessel that carries blood") == "artery"
    assert asked_category("a small vessel that carries blood") == "vessel"
    assert named_as_other("vein", "circumflex artery")
    assert not named_as_other("vein", "inferior vena cava")


@given(st.text(min_size=0, max_size=20), st.text(min_size=0, max_size=20))
def test_sharing_a_root_is_symmetric(a: str, b: str) -> None:
    assert shares_root(a, b) == shares_root(b, a)


def test_a_distractor_named_as_another_thing_of_the_asked_kind_is_ruled_out() -> None:
    stem = "Which of the following are the veins that drain blood from the stomach wall?"
    arteries = ["gastric veins", "gastric arteries", "splenic veins", "hepatic veins"]
    assert DISTRACTORS_OF_KEY_KIND in fails(stem, arteries)
    veins = ["gastric veins", "splenic veins", "hepatic veins", "renal veins"]
    assert DISTRACTORS_OF_KEY_KIND not in fails(stem, veins)


HEART_WALL = {
    "epicardium": "outermost layer covering the heart",
    "myocardium": "thickest layer, made of cardiac muscle",
    "endocardium": "innermost layer lining the heart chambers",
    "auricle": "extension of an atrium visible on the superior surface of the heart",
    "sulcus": "fat-filled groove on the surface of the heart",
    "cusp": "flap of a valve that closes to stop backflow",
    "mitral valve": "valve located between the left atrium and ventricle",
}


def test_the_generator_judges_structures_by_group_and_the_validator_by_family() -> None:
    layer = kind_from_definition(HEART_WALL["endocardium"])
    assert same_kind(layer, kind_from_definition(HEART_WALL["epicardium"]), by_group=True)
    for other in ("auricle", "sulcus", "mitral valve"):
        assert same_kind(layer, kind_from_definition(HEART_WALL[other]), by_group=True) is False
    valve = kind_from_definition(HEART_WALL["mitral valve"])
    assert same_kind(valve, kind_from_definition(HEART_WALL["cusp"]), by_group=True)
    # The grader accepted a chamber and a cavity beside a layer: the validator keeps families.
    stem = "Which of the following is the innermost layer lining the heart chambers?"
    mixed = ["endocardium", "auricle", "sulcus", "epicardium"]
    assert DISTRACTORS_OF_KEY_KIND not in fails(stem, mixed, definitions=HEART_WALL)
    drugs = ["endocardium", "pepsin", "sulcus", "epicardium"]
    assert DISTRACTORS_OF_KEY_KIND in fails(stem, drugs, definitions={**HEART_WALL, **DIGESTION})


def test_a_name_run_into_its_definition_or_cut_after_a_participle_is_broken_text() -> None:
    stem = "Which of the following are the veins that drain the fingers?"
    run_on = ["digital veins drain the digits", "palmar arches", "basilic veins", "ulnar veins"]
    assert NO_BROKEN_TEXT in fails(stem, run_on)
    cut = ["sigmoid sinuses enlarged", "occipital sinuses", "straight sinuses", "dural sinuses"]
    assert NO_BROKEN_TEXT in fails(stem, cut)
    names = ["digital veins", "loop of the nephron", "cell-mediated", "basilic veins"]
    assert NO_BROKEN_TEXT not in fails(stem, names)


def test_a_class_named_in_the_plural_has_its_members_shape() -> None:
    assert shape_family("tetracyclines") == ("drug", True)
    assert shape_family("lymphocytes") == ("cell", True)
    assert shape_family("ribosomes")[0] == ""


def test_an_enzyme_is_not_offered_among_hormones_but_a_substance_may_be() -> None:
    enzyme = kind_from_definition("enzyme that starts a cascade of phosphorylations")
    hormone = kind_from_definition("hormone secreted by the pancreas that lowers glucose")
    substance = kind_from_definition("substance such as heparin that opposes clotting")
    assert same_kind(enzyme, hormone, by_group=True) is False
    assert same_kind(enzyme, substance, by_group=True)
    # The validator keeps families, as the grader did.
    assert same_kind(enzyme, hormone)


def test_a_pigment_or_an_ion_is_no_protein_though_an_enzyme_is() -> None:
    protein = kind_from_definition("plasma protein that carries copper in the blood")
    pigment = kind_from_definition("pigment formed when old red cells are broken down")
    ion = kind_from_definition("ion that the kidney trades for sodium")
    enzyme = kind_from_definition("enzyme that cuts fibrin into fragments")
    assert same_kind(protein, pigment, by_group=True) is False
    assert same_kind(protein, ion, by_group=True) is False
    assert same_kind(protein, enzyme, by_group=True)
    # Asked for an antibody, a plain protein is ruled out by the question.
    antibody = kind_from_definition("antibody that crosses the placenta")
    assert same_kind(antibody, protein, by_group=True) is False
    # A change in number is no molecule, whatever its "-ase" ending suggests.
    change = kind_from_definition("decrease in the number of receptors after long exposure")
    assert same_kind(change, kind_from_definition("hormone made by the gut")) is False


def test_a_stem_pointing_back_at_the_book_is_unfocused() -> None:
    stem = "Which of the following is the precursor to the hormone, mentioned earlier?"
    assert FOCUSED_LEAD_IN in fails(stem, ["renin", "lipase", "amylase", "trypsin"])
    stem = "Which of the following is the precursor to the hormone made in the liver?"
    assert FOCUSED_LEAD_IN not in fails(stem, ["renin", "lipase", "amylase", "trypsin"])


def test_a_sentence_about_a_longer_name_teaches_nothing_about_its_first_words() -> None:
    lexicon = build_lexicon(
        {},
        ["Interstitial fluid hydrostatic pressure is the force of the fluid in the tissues."],
        ["interstitial fluid"],
    )
    assert lexicon.stated("interstitial fluid").family != "quantity"


def test_an_option_cut_off_at_a_semicolon_is_broken_text() -> None:
    stem = "Which of the following receives lymph from the upper right side of the body?"
    options = [
        "right lymphatic duct",
        "femoral vein drains the upper leg;",
        "thoracic duct",
        "cisterna chyli",
    ]
    assert NO_BROKEN_TEXT in fails(stem, options)


def test_a_process_gone_wrong_is_a_disorder_not_a_process() -> None:
    # Defining "clotting", the defined disorders are ruled out by their kind: a student who
    # knows no physiology still sees "excessive ..." and "below-normal ..." are disorders.
    stem = 'Which of the following best defines "clotting"?'
    mixed = fails(
        stem,
        [
            "formation of a blood clot that stops bleeding",
            "production of the formed elements of blood",
            "excessive clot formation inside an intact vessel",
            "below-normal production of leukocytes",
        ],
    )
    assert DISTRACTORS_OF_KEY_KIND in mixed
    processes = [
        "formation of a blood clot that stops bleeding",
        "production of the formed elements of blood",
        "dissolution of a clot once the vessel has healed",
        "movement of leukocytes out through the vessel wall",
    ]
    assert DISTRACTORS_OF_KEY_KIND not in fails(stem, processes)


def test_a_word_part_of_the_asked_term_glossed_by_the_key_alone_is_a_cue() -> None:
    stem = 'Which of the following best defines "ferrochrome"?'
    options = [
        "pigment that gives the secretion its brown color",
        "enzyme made by the lining that splits proteins",
        "polysaccharide that makes the secretion thick",
        "hormone released by the gland that lowers blood calcium",
    ]
    assert NO_CUE_TO_KEY in fails(stem, options)
    options[0] = "pigment that tints the secretion brown"
    assert NO_CUE_TO_KEY not in fails(stem, options)


def test_a_plain_gloss_of_a_word_part_at_the_start_or_end_of_the_key_is_a_cue() -> None:
    stem = "Which of the following is the loss of ability to control the bladder?"
    assert NO_CUE_TO_KEY in fails(stem, ["incontinence", "polyuria", "nocturia", "anuria"])
    inactive = "Which of the following is the inactive protein the liver releases into the blood?"
    assert NO_CUE_TO_KEY in fails(inactive, ["tensinogen", "lysinase", "ferritin", "albumin"])
    # Without the gloss the same key is asked cleanly.
    assert NO_CUE_TO_KEY not in fails(
        inactive.replace("inactive", "main"), ["tensinogen", "lysinase", "ferritin", "albumin"]
    )


def test_a_key_a_quarter_longer_than_every_other_definition_stands_out() -> None:
    stem = 'Which of the following best defines "lipase"?'
    options = [
        "enzyme secreted by the pancreas that breaks dietary fats into fatty acids and glycerol",
        "enzyme that digests proteins in the acidic stomach",
        "enzyme that digests starch into sugars",
        "enzyme of the small intestine that digests proteins",
    ]
    assert KEY_NOT_LONGEST in fails(stem, options)
    options[0] = "enzyme that breaks down dietary fats into fatty acids"
    assert KEY_NOT_LONGEST not in fails(stem, options)
    # Among names and phrases (a board item's options) only a far longer key stands out.
    assert KEY_NOT_LONGEST not in fails(
        "Which of the following is the most appropriate next step in management?",
        ["Intravenous ciprofloxacin and vancomycin", "Oral amoxicillin", "Observation", "Surgery"],
    )


def test_a_distractor_the_stem_names_is_ruled_out() -> None:
    stem = 'Which of the following hormones has the effect "inhibits lipase and amylase release"?'
    options = ["pepsin", "lipase (acinar cells)", "amylase", "trypsin"]
    assert DISTRACTORS_OF_KEY_KIND in fails(stem, options)
    assert DISTRACTORS_OF_KEY_KIND not in fails(
        stem.replace("lipase and amylase", "bile"), options
    )


def test_a_closing_that_noun_cut_from_its_sentence_is_unfocused() -> None:
    options = ["pyloric sphincter", "lower esophageal sphincter", "ileocecal valve", "cardia"]
    stem = "Which of the following relaxes to let chyme into the segment that follows that valve?"
    assert FOCUSED_LEAD_IN in fails(stem, options)
    whole = "Which of the following relaxes to let chyme pass into the duodenum?"
    assert FOCUSED_LEAD_IN not in fails(whole, options)


def test_a_structure_of_another_group_than_the_stem_names_is_off_group() -> None:
    glands = {
        "pancreas": "glandular organ behind the stomach that secretes enzymes and insulin",
        "spleen": "organ that filters the blood and stores platelets",
        "gallbladder": "hollow organ that stores bile",
        "bile duct": "duct that carries bile from the liver to the duodenum",
        "pancreatic duct": "duct that carries pancreatic juice to the duodenum",
    }
    lexicon = build_lexicon(glands)
    stem = "Which of the following is the glandular organ behind the stomach?"
    ducts = ["pancreas", "spleen", "gallbladder", "bile duct"]
    assert off_group_distractors(stem, ducts, 0, lexicon) == [3]
    organs = ["pancreas", "spleen", "gallbladder", "liver"]
    assert off_group_distractors(stem, organs, 0, lexicon) == []


def test_a_stem_word_written_inside_the_key_alone_is_a_cue() -> None:
    stem = "Which of the following is the form of pepsin before the stomach's acid cuts it?"
    zymogens = ["pepsinogen", "trypsinogen", "chymotrypsinogen", "procarboxypeptidase"]
    assert NO_CUE_TO_KEY in fails(stem, zymogens)
    # Each option holds the word: it points at none of them.
    assert NO_CUE_TO_KEY not in fails(
        "Which of the following is the form of pepsin active at the lowest pH?",
        ["pepsin A", "pepsin B", "pepsin C", "gastricsin"],
    )


def test_a_molecule_of_another_group_than_the_stem_names_is_off_group() -> None:
    lexicon = build_lexicon(DIGESTION | {"bilirubin": "yellow pigment made from broken heme"})
    stem = "Which of the following is the enzyme that digests proteins in the acidic stomach?"
    assert off_group_distractors(stem, ["pepsin", "lipase", "amylase", "bilirubin"], 0, lexicon)
    assert not off_group_distractors(stem, ["pepsin", "lipase", "amylase", "trypsin"], 0, lexicon)


def test_a_stem_naming_no_kind_is_held_to_the_key_molecules_group() -> None:
    lexicon = build_lexicon(DIGESTION | {"bilirubin": "yellow pigment made from broken heme"})
    stem = "Which of the following splits dietary proteins in the stomach?"
    assert off_group_distractors(stem, ["pepsin", "lipase", "bilirubin", "trypsin"], 0, lexicon)
    assert not off_group_distractors(stem, ["pepsin", "lipase", "amylase", "trypsin"], 0, lexicon)
