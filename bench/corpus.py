"""Danish text for the document benchmarks: a municipality's letters, notes and decisions.

Words are drawn from four lists mixed per document: Danish function words (the most frequent, most
of them stop words), the vocabulary every case file shares (kommune, afgørelse, ansøgning …), the
vocabulary of the document's subject (school, children and families, employment, building, …) and a
little of a second subject, plus names, addresses, dates and journal numbers. Within a list the
earlier words are the more frequent (Zipf-like weights), so a subject word such as "elev" is in most
school documents and few others, and a general word such as "afgørelse" is in many documents of
every subject — what makes a real index's posting lists long or short.

Everything comes from a seeded `random.Random`: the same seed gives the same text.
"""
from __future__ import annotations

import bisect
import itertools
import random
import textwrap
from dataclasses import dataclass

FUNCTION_WORDS = """
og i at det er en til som på de med for af ikke der har om vi kan den et skal vil fra efter så også
eller ved under over hvis når denne dette disse have være blevet bliver blive samt jf mv kun nu
hvor hvilket hvorfor derfor dog men da idet inden senest bl.a. herunder heraf hermed endvidere
""".split()

GENERAL_WORDS = """
kommune kommunen sag sagen afgørelse afgørelsen ansøgning ansøgningen borger borgeren henvendelse
henvendelsen oplysninger vedrørende sagsbehandling sagsbehandler sagsbehandleren frist fristen
klage klagen høring partshøring begrundelse begrundelsen regler reglerne lovgivning bekendtgørelse
paragraf stk forvaltningen dokumentation bilag brev brevet mail telefon møde mødet aftale aftalen
svar spørgsmål beslutning vurdering vurderet modtaget behandlet venlig hilsen dato journalnummer
kontakt center afdeling afdelingen udvalg udvalget byrådet medarbejder leder tilladelse
tilladelsen betingelser vilkår oplyst oplyser anmoder anmodning bevilling bevilget afslag
afslået godkendt godkendelse orientering orienterer fremsendt vedlagt ønsker behov mulighed
muligheden baggrund grundlag konkret samlet endelig foreløbig tidligere fremover snarest
""".split()

# subject -> its words, the most frequent first
SUBJECTS: dict[str, list[str]] = {
    "skole": """
        skole skolen elev eleven elever klasse undervisning lærer lærere skoleleder forældre fravær
        skoleskift specialundervisning inklusion pædagogisk psykologisk ppr sfo skolebus befordring
        trivsel mobning folkeskole folkeskoleloven indskrivning skoledistrikt prøve karakterer
        skolebestyrelse lektier tosproget udtalelse handleplan støttetimer klassetrin modtageklasse
        skolepsykolog specialklasse skoletilbud visitationsudvalg skoledag ordblindhed
    """.split(),
    "familie": """
        barnet børn barn familien forældrene mor far underretning bekymring børnefaglig undersøgelse
        anbringelse plejefamilie samvær forældremyndighed dagtilbud vuggestue børnehave dagpleje
        pasning pladsanvisning venteliste sundhedsplejerske aflastning støtteperson forebyggende
        foranstaltning familiebehandling netværksmøde barnets plejeforældre opholdssted
        ungdomssanktion kontaktperson efterværn
    """.split(),
    "personale": """
        ansættelse stillingen løn overenskomst arbejdstid opsigelse medarbejderen tiltrædelse
        prøvetid ferie sygefravær sygemelding fraværssamtale tillidsrepræsentant ansættelsesbrev
        lønindplacering opsigelsesvarsel fratrædelse kompetenceudvikling kursus pension
        tjenestemand advarsel tjenstlig samtale ansøger ansøgere rekruttering ansættelsesudvalg
        jobopslag kvalifikationer seniorordning omplacering deltid fuldtid
    """.split(),
    "byggeri": """
        byggetilladelse byggeri byggesag tilbygning carport garage udestue bebyggelsesprocent
        lokalplan kommuneplan dispensation naboorientering nabo naboer matrikel ejendommen grunden
        skel højde facade taget tegninger situationsplan bbr ibrugtagning færdigmelding
        bygningsreglementet brandsikring beregninger landzone landzonetilladelse kvadratmeter
        sommerhus overdækning terrasse nedrivning
    """.split(),
    "miljø": """
        miljø miljøgodkendelse spildevand kloak nedsivning jord forurening jordforurening støj lugt
        husdyr landbrug gylle vandløb beskyttet natur naturbeskyttelse fredning skov sø dræn
        regnvand grundvand boring vandforsyning affald genbrug påbud tilsynet virksomheden
        udledning olietank slam måling
    """.split(),
    "omsorg": """
        handicap hjælpemiddel hjælpemidler kørestol rollator boligændring hjemmehjælp hjemmepleje
        plejebolig plejehjem visitation visitator rehabilitering genoptræning træning madservice
        personlig pleje praktisk hjælp rengøring ældre demens pårørende merudgifter
        arbejdsfortjeneste ledsagelse bostøtte botilbud serviceloven handicapbil
    """.split(),
    "beskæftigelse": """
        kontanthjælp uddannelseshjælp ydelse ydelsen jobcenter jobcentret sygedagpenge
        ressourceforløb fleksjob førtidspension jobafklaring praktik virksomhedspraktik løntilskud
        aktivering rådighed sanktion opfølgning joblog uddannelse revalidering enkeltydelse
        boligstøtte tilbagebetaling indtægt formue lægeerklæring arbejdsevne
    """.split(),
    "vej": """
        vej vejen fortov cykelsti parkering skiltning trafik hastighed vejarbejde gravetilladelse
        vejareal snerydning glatførebekæmpelse vejbelysning overkørsel udkørsel park træer
        beplantning legeplads busstoppested fartdæmpning vejbump rundkørsel autoværn
    """.split(),
    "økonomi": """
        faktura betaling budget regnskab udbud tilbud kontrakt leverandør indkøb beløb kr moms
        bevillingen tilskud puljemidler afregning refusion kreditor debitor rykker restance
        inkasso fakturering budgetopfølgning
    """.split(),
    "jura": """
        aktindsigt offentlighedsloven forvaltningsloven partsaktindsigt undtaget interne dokumenter
        ombudsmanden ankestyrelsen klagevejledning klagefrist genoptagelse persondata
        databeskyttelse samtykke tavshedspligt partsrepræsentant fuldmagt berigtigelse
        indsigtsanmodning notatpligt
    """.split(),
}

# the subjects' share of documents (a municipality's case load)
SUBJECT_WEIGHTS = {
    "skole": 12, "familie": 12, "personale": 10, "byggeri": 14, "miljø": 8, "omsorg": 14,
    "beskæftigelse": 14, "vej": 6, "økonomi": 5, "jura": 5,
}

# title phrases per subject: "<document type> – <phrase>"
TITLE_PHRASES: dict[str, list[str]] = {
    "skole": ["skoleskift", "specialundervisning", "fravær i skolen", "befordring til skole", "optagelse i SFO",
              "udtalelse fra PPR", "trivsel i klassen", "indskrivning i skole"],
    "familie": ["underretning om barn", "børnefaglig undersøgelse", "anbringelse uden for hjemmet", "samvær",
                "plads i børnehave", "aflastning", "familiebehandling", "støtteperson"],
    "personale": ["ansættelse", "opsigelse", "sygefravær", "lønindplacering", "fraværssamtale", "advarsel",
                  "kompetenceudvikling", "fratrædelse"],
    "byggeri": ["byggetilladelse til carport", "tilbygning til enfamiliehus", "dispensation fra lokalplan",
                "naboorientering", "landzonetilladelse", "færdigmelding", "udestue", "nedrivning af garage"],
    "miljø": ["nedsivning af spildevand", "påbud om kloakering", "jordforurening", "støj fra virksomhed",
              "miljøgodkendelse", "vandløb og dræn", "olietank", "husdyrbrug"],
    "omsorg": ["hjælpemidler", "hjemmehjælp", "boligændring", "plejebolig", "genoptræning", "merudgifter",
               "bostøtte", "handicapbil"],
    "beskæftigelse": ["kontanthjælp", "sygedagpenge", "fleksjob", "ressourceforløb", "enkeltydelse",
                      "førtidspension", "virksomhedspraktik", "tilbagebetaling af ydelse"],
    "vej": ["gravetilladelse", "parkering", "overkørsel", "snerydning", "vejbelysning", "fartdæmpning",
            "beplantning langs vej", "cykelsti"],
    "økonomi": ["faktura", "betaling", "udbud", "kontrakt med leverandør", "refusion", "tilskud fra pulje",
                "restance", "budgetopfølgning"],
    "jura": ["aktindsigt", "partsaktindsigt", "klage til Ankestyrelsen", "henvendelse fra Ombudsmanden",
             "genoptagelse", "indsigtsanmodning", "fuldmagt", "databeskyttelse"],
}

DOCUMENT_TYPES = ["Brev", "Notat", "Afgørelse", "Ansøgning", "Mail", "Faktura", "Referat", "Høringssvar",
                  "Klage", "Udtalelse", "Kontrakt", "Journalnotat"]
# how often each type is used (letters, notes and mails most)
DOCUMENT_TYPE_WEIGHTS = [20, 18, 10, 10, 15, 3, 5, 3, 4, 5, 2, 5]

FIRST_NAMES = ["Anna", "Mette", "Hanne", "Susanne", "Lene", "Kirsten", "Camilla", "Louise", "Maria", "Sofie",
               "Peter", "Jens", "Lars", "Henrik", "Søren", "Thomas", "Niels", "Michael", "Morten", "Rasmus",
               "Ida", "Emma", "Freja", "Mads", "Frederik", "Oliver", "Karl", "Birgitte", "Jørgen", "Åse"]
LAST_NAMES = ["Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
              "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Poulsen",
              "Johansen", "Møller", "Mortensen", "Holm", "Kjær", "Lund", "Bach", "Dam", "Østergaard"]
STREETS = ["Vestergade", "Østergade", "Nørregade", "Søndergade", "Algade", "Kirkevej", "Skolevej", "Møllevej",
           "Stationsvej", "Bakkevej", "Engvej", "Skovvej", "Strandvejen", "Parkvej", "Havnegade", "Æblehaven"]
CITIES = ["8000 Aarhus C", "5000 Odense C", "9000 Aalborg", "7100 Vejle", "6700 Esbjerg", "4000 Roskilde",
          "8700 Horsens", "8900 Randers", "7400 Herning", "3400 Hillerød"]
DEPARTMENTS = ["Børn og Unge", "Skoleafdelingen", "Byggeri og Plan", "Natur og Miljø", "Jobcenter",
               "Ældre og Sundhed", "Løn og Personale", "Vej og Park", "Økonomi", "Borgerservice"]

# queries a caseworker types: one word, or three words of one subject (and a few across subjects,
# which match little or nothing)
ONE_WORD_QUERIES = [
    "skole", "elev", "afgørelse", "ansættelse", "kommune", "ansøgning", "børn", "sagsbehandling",
    "byggetilladelse", "handicap", "kontanthjælp", "lokalplan", "spildevand", "aktindsigt", "klage",
    "hjemmehjælp", "fleksjob", "underretning", "opsigelse", "dispensation", "parkering", "faktura",
    "plejefamilie", "carport", "sygedagpenge", "fravær", "naboer", "ombudsmanden", "støj", "Jensen",
]
THREE_WORD_QUERIES = [
    "skoleskift elev forældre", "byggetilladelse carport naboorientering", "afgørelse kontanthjælp sanktion",
    "underretning barnet bekymring", "ansættelse løn overenskomst", "klage afgørelse ankestyrelsen",
    "hjemmehjælp rengøring visitation", "lokalplan dispensation højde", "spildevand nedsivning tilladelse",
    "aktindsigt dokumenter undtaget", "fleksjob ressourceforløb jobcenter", "opsigelse medarbejderen advarsel",
    "plejefamilie anbringelse samvær", "støj naboer klage", "faktura betaling refusion",
    "sygedagpenge opfølgning lægeerklæring", "vejarbejde gravetilladelse fortov", "kommune borger henvendelse",
    "sagsbehandling frist svar", "handicap hjælpemidler kørestol", "specialundervisning ppr udtalelse",
    "børnehave plads venteliste", "jordforurening påbud virksomheden", "sygefravær fraværssamtale leder",
    "ansøgning afslag begrundelse", "Mette Jensen Vestergade", "skole carport faktura",
    "ombudsmanden gylle rollator", "elev kontrakt snerydning", "tilbygning garage bbr",
]


def _weights(n: int, s: float = 0.9) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank + 1) ** s for rank in range(n)))


@dataclass
class _Mixture:
    """One subject's word distribution (with a little of another subject): words and cumulative weights."""

    words: list[str]
    cum: list[float]


class Writer:
    """Danish documents from a seeded generator.

    Each document gets its own vocabulary: all function words, a part of the general words, a few
    of its subject's words (the frequent ones more likely) and, in some documents, a handful of a
    second subject's. So a word's document frequency follows its rank, as in a real archive where a
    letter about school absence does not also mention the school bus and dyslexia.
    """

    # shares of a document's words: function words, general words, its subject, a second subject
    SHARES = (0.40, 0.30, 0.25, 0.05)

    def __init__(self, seed: int = 1):
        self.rng = random.Random(seed)
        self.subjects = list(SUBJECTS)
        self._subject_cum = list(itertools.accumulate(SUBJECT_WEIGHTS[s] for s in self.subjects))
        self._type_cum = list(itertools.accumulate(DOCUMENT_TYPE_WEIGHTS))

    # ------------------------------------------------------------ choices

    def subject(self) -> str:
        return self.subjects[bisect.bisect(self._subject_cum, self.rng.random() * self._subject_cum[-1])]

    def document_type(self) -> str:
        return DOCUMENT_TYPES[bisect.bisect(self._type_cum, self.rng.random() * self._type_cum[-1])]

    def name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def address(self) -> str:
        return f"{self.rng.choice(STREETS)} {self.rng.randrange(1, 150)}, {self.rng.choice(CITIES)}"

    def title(self, subject: str, doc_type: str | None = None) -> str:
        doc_type = doc_type or self.document_type()
        phrase = self.rng.choice(TITLE_PHRASES[subject])
        if self.rng.random() < 0.4:
            return f"{doc_type} om {phrase} – {self.name()}"
        return f"{doc_type} om {phrase}"

    def _some(self, vocabulary: list[str], k: int) -> list[str]:
        """k different words of the list, the earlier (more frequent) ones more likely, in list order."""
        k = min(k, len(vocabulary))
        keys = [self.rng.random() ** (1.0 / w) for w in (1.0 / (rank + 1) ** 0.9 for rank in range(len(vocabulary)))]
        chosen = sorted(range(len(vocabulary)), key=lambda i: -keys[i])[:k]  # weighted sampling without replacement
        return [vocabulary[i] for i in sorted(chosen)]

    def vocabulary(self, subject: str) -> _Mixture:
        """One document's words with cumulative weights."""
        rng = self.rng
        parts = [FUNCTION_WORDS, self._some(GENERAL_WORDS, rng.randrange(12, 40)),
                 self._some(SUBJECTS[subject], rng.randrange(6, 16))]
        shares = list(self.SHARES)
        if rng.random() < 0.4:
            parts.append(self._some(SUBJECTS[self.subject()], rng.randrange(1, 5)))
        else:
            shares[2] += shares.pop()
        words, cum, total = [], [], 0.0
        for share, vocabulary in zip(shares, parts):
            weights = _weights(len(vocabulary))
            for word, w in zip(vocabulary, weights):
                words.append(word)
                cum.append(total + share * w / weights[-1])
            total += share
        return _Mixture(words, cum)

    # ------------------------------------------------------------ text

    def sentences(self, vocabulary: _Mixture, n_words: int) -> list[str]:
        """About n_words words as sentences, with now and then a name, an address, a date or a number."""
        rng = self.rng
        words = rng.choices(vocabulary.words, cum_weights=vocabulary.cum, k=n_words)
        out, i = [], 0
        while i < len(words):
            length = rng.randrange(6, 18)
            chunk = words[i:i + length]
            i += length
            r = rng.random()
            if r < 0.08:
                chunk.insert(rng.randrange(len(chunk) + 1), self.name())
            elif r < 0.12:
                chunk.insert(rng.randrange(len(chunk) + 1), self.address())
            elif r < 0.18:
                chunk.insert(rng.randrange(len(chunk) + 1),
                             f"{rng.randrange(1, 29):02d}.{rng.randrange(1, 13):02d}.{rng.randrange(2019, 2027)}")
            elif r < 0.21:
                chunk.insert(rng.randrange(len(chunk) + 1), f"{rng.randrange(2019, 2027)}-{rng.randrange(1, 40000):06d}")
            elif r < 0.24:
                chunk.insert(rng.randrange(len(chunk) + 1), f"{rng.randrange(100, 99999)} kr.")
            sentence = " ".join(chunk)
            out.append(sentence[:1].upper() + sentence[1:] + ".")
        return out

    def body(self, subject: str, n_words: int, title: str = "") -> str:
        """A letter or note: a greeting, paragraphs, a closing."""
        rng = self.rng
        sentences = self.sentences(self.vocabulary(subject), n_words)
        paragraphs, i = [], 0
        while i < len(sentences):
            k = rng.randrange(2, 6)
            paragraphs.append(" ".join(sentences[i:i + k]))
            i += k
        head = [f"Kære {self.name()}"] if rng.random() < 0.6 else []
        if title:
            head.append(f"Vedrørende: {title}")
        tail = [f"Med venlig hilsen\n{self.name()}\n{rng.choice(DEPARTMENTS)}"]
        return "\n\n".join(head + paragraphs + tail)

    def body_length(self) -> int:
        """Words in a document body: a few hundred mostly, now and then a long one."""
        rng = self.rng
        if rng.random() < 0.03:
            return rng.randrange(1500, 3000)
        return max(80, min(900, int(rng.lognormvariate(5.6, 0.45))))  # median ~270

    def pages(self, subject: str, n_pages: int, title: str) -> list[str]:
        """Text for n_pages A4 pages of a letter: lines of at most 85 characters, 25-45 lines a page."""
        rng = self.rng
        vocabulary = self.vocabulary(subject)
        pages = []
        for number in range(n_pages):
            n_lines = rng.randrange(25, 46)
            text = " ".join(self.sentences(vocabulary, n_lines * 12))
            lines = textwrap.wrap(text, 85, break_long_words=False, break_on_hyphens=False)[:n_lines]
            if number == 0:
                lines = [title, f"Sagsbehandler: {self.name()}, {rng.choice(DEPARTMENTS)}", ""] + lines
            pages.append("\n".join(lines))
        return pages
