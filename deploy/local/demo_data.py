"""The demo company `make seed` loads: Nordwind Office GmbH, a Berlin supplier of office
furniture and equipment, its people, catalogue, customers, pipeline and support cases.

Fixed lists, so every run loads the same company. Each record has a stable key: the seed
derives its Idempotency-Key from it, and the records refer to each other by it. Dates are
days relative to the day the company was first seeded. Owners and assignees name an
employee key (below) or a development role (`sales`, `sales_manager`, `support`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Address = dict[str, str]


def address(street: str, postal_code: str, city: str, country: str) -> Address:
    return {"street": street, "postal_code": postal_code, "city": city, "country": country}


# --- People -------------------------------------------------------------------------------

# key, name, parent key
DEPARTMENTS = (
    ("sales", "Sales", None),
    ("inside_sales", "Inside Sales", "sales"),
    ("support", "Customer Support", None),
    ("operations", "Operations & Warehouse", None),
    ("finance", "Finance", None),
    ("people", "People", None),
)


@dataclass(frozen=True)
class Hire:
    key: str
    name: str
    title: str
    role: str
    department: str
    salary: str
    hired_on: str
    manager: str | None = None  # an employee key or a development role

    @property
    def email(self) -> str:
        return f"{self.key}@nordwind-office.example.com"


# The sales reps report to the development sales manager, so CRM lets them own records and
# a leaver's records go to the manager.
HIRES = (
    Hire("mia.keller", "Mia Keller", "Senior Account Executive", "sales", "sales", "72000.00",
         "2021-03-01", "sales_manager"),
    Hire("noah.becker", "Noah Becker", "Key Account Manager", "sales", "sales", "78000.00",
         "2020-01-06", "sales_manager"),
    Hire("jonas.weber", "Jonas Weber", "Account Executive", "sales", "sales", "61000.00",
         "2022-09-15", "sales_manager"),
    Hire("lea.fischer", "Lea Fischer", "Inside Sales Representative", "sales", "inside_sales",
         "48000.00", "2023-05-02", "sales_manager"),
    Hire("emma.schulz", "Emma Schulz", "Sales Development Representative", "sales",
         "inside_sales", "44000.00", "2024-02-01", "sales_manager"),
    Hire("ben.richter", "Ben Richter", "Account Executive", "sales", "sales", "58000.00",
         "2023-01-09", "sales_manager"),
    Hire("clara.wagner", "Clara Wagner", "Head of Customer Support", "support", "support",
         "64000.00", "2020-06-01"),
    Hire("lukas.hoffmann", "Lukas Hoffmann", "Support Specialist", "support", "support",
         "46000.00", "2022-04-19", "clara.wagner"),
    Hire("felix.braun", "Felix Braun", "Head of Operations", "warehouse", "operations",
         "67000.00", "2019-10-01"),
    Hire("paul.zimmermann", "Paul Zimmermann", "Warehouse Operative", "warehouse", "operations",
         "36000.00", "2023-08-14", "felix.braun"),
    Hire("hannah.krueger", "Hannah Krüger", "Logistics Coordinator", "warehouse", "operations",
         "47000.00", "2022-11-01", "felix.braun"),
    Hire("sophie.hartmann", "Sophie Hartmann", "Head of Finance", "finance", "finance",
         "82000.00", "2019-04-01"),
    Hire("tim.lange", "Tim Lange", "Accounts Receivable Specialist", "finance", "finance",
         "49000.00", "2023-03-13", "sophie.hartmann"),
    Hire("laura.schmitt", "Laura Schmitt", "Talent Acquisition Partner", "hr", "people",
         "52000.00", "2024-06-03", "hr"),
)  # fmt: skip

# The rep who resigns once the pipeline is loaded: CRM hands their open leads to the manager.
LEAVER = "ben.richter"
LEAVER_REASON = "Resigned to move abroad"

# Development employees (made by `make run`) placed in departments: role -> department,
# salary, manager.
DEVELOPMENT_PLACEMENT = (
    ("admin", "operations", "70000.00", None),
    ("sales_manager", "sales", "95000.00", None),
    ("sales", "sales", "56000.00", "sales_manager"),
    ("support", "support", "45000.00", "clara.wagner"),
    ("warehouse", "operations", "38000.00", "felix.braun"),
    ("finance", "finance", "55000.00", "sophie.hartmann"),
    ("hr", "people", "60000.00", None),
)

# --- Catalogue and stock --------------------------------------------------------------------

# key, code, name, address, default
WAREHOUSES = (
    ("ber", "BER", "Berlin Central Warehouse",
     address("Lagerstraße 12", "13405", "Berlin", "DE"), True),
    ("ham", "HAM", "Hamburg Port Depot",
     address("Hafenrandweg 7", "20457", "Hamburg", "DE"), False),
)  # fmt: skip


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    unit_price: str
    tax_rate: str
    cost: str
    reorder_point: int
    stock_ber: int
    stock_ham: int = 0
    active: bool = True


PRODUCTS = (
    Product("CHR-ERG-100", "Ergonomic Office Chair Aria", "329.00", "19", "168.00", 10, 60, 20),
    Product("CHR-ERG-200", "Ergonomic Office Chair Aria Pro", "489.00", "19", "251.00", 8, 40),
    Product("CHR-ERG-050", "Office Chair Aria (previous model)", "249.00", "19", "130.00", 0, 0,
            6, active=False),
    Product("CHR-VIS-010", "Visitor Chair, stackable", "89.00", "19", "41.50", 20, 120, 40),
    Product("CHR-STL-020", "Drafting Stool", "149.00", "19", "72.00", 5, 15),
    Product("DSK-SIT-140", "Sit-Stand Desk 140x70", "649.00", "19", "355.00", 6, 30, 10),
    Product("DSK-SIT-160", "Sit-Stand Desk 160x80", "729.00", "19", "398.00", 6, 45, 10),
    Product("DSK-FIX-160", "Desk 160x80, fixed height", "289.00", "19", "139.00", 8, 40),
    Product("DSK-CNF-240", "Conference Table 240x110", "1190.00", "19", "640.00", 2, 6),
    Product("STO-PED-003", "Mobile Pedestal, 3 drawers", "219.00", "19", "104.00", 10, 50),
    Product("STO-CAB-120", "Filing Cabinet, lockable", "399.00", "19", "201.00", 4, 12, 4),
    Product("STO-LCK-012", "Locker, 12 compartments", "869.00", "19", "452.00", 2, 5),
    Product("TEC-MON-27Q", 'Monitor 27" QHD', "319.00", "19", "236.00", 12, 70, 30),
    Product("TEC-MON-34W", 'Monitor 34" Ultrawide', "589.00", "19", "441.00", 6, 20),
    Product("TEC-ARM-DUO", "Dual Monitor Arm", "139.00", "19", "61.00", 10, 40),
    Product("TEC-DCK-U4", "USB-C Docking Station", "189.00", "19", "118.00", 15, 60, 15),
    Product("TEC-KBD-WL", "Wireless Keyboard and Mouse Set", "69.00", "19", "31.00", 25, 100),
    Product("TEC-HDS-ANC", "Headset, noise cancelling", "159.00", "19", "92.00", 15, 50),
    Product("TEC-CAM-4K", "Webcam 4K", "129.00", "19", "74.00", 10, 30),
    # Two in stock: the order that wants six waits for the next receipt (backordered).
    Product("TEC-SPK-360", "Conference Speakerphone", "449.00", "19", "287.00", 3, 2),
    Product("LGT-DSK-LED", "LED Desk Lamp", "79.00", "19", "33.00", 20, 80),
    Product("ACC-FTR-ADJ", "Footrest, adjustable", "49.00", "19", "19.50", 20, 60),
    Product("ACC-WBD-180", "Whiteboard 180x90, magnetic", "259.00", "19", "121.00", 4, 10),
    Product("ACC-CBL-KIT", "Cable Management Kit", "29.90", "19", "9.80", 40, 150),
    Product("ACC-PNL-ACU", "Acoustic Desk Panel", "169.00", "19", "78.00", 10, 40),
    Product("CON-PAP-A4", "Copy Paper A4, 5x500 sheets", "24.90", "19", "14.20", 100, 300, 100),
    Product("CON-TNR-BK", "Toner Cartridge, black", "89.00", "19", "47.00", 30, 60),
    Product("CON-MRK-SET", "Whiteboard Marker Set (12)", "14.90", "19", "5.60", 50, 120),
    Product("FNB-COF-1KG", "Coffee Beans, Espresso Blend 1 kg", "21.90", "7", "11.40", 40, 90),
    Product("FNB-TEA-ASS", "Tea Assortment, 120 bags", "18.50", "7", "8.90", 30, 60),
    Product("BKS-ERG-GDE", "Handbook: Healthy Workplaces (paperback)", "34.00", "7", "17.00",
            10, 25),
)  # fmt: skip

# After the opening receipts: a price cut and a cheaper supplier (a cost change revalues the
# units on hand).
REPRICES = (("TEC-MON-27Q", {"unit_price": "299.00"}), ("TEC-DCK-U4", {"cost": "112.00"}))
# key, sku, from, to, quantity
TRANSFERS = (("monitors-to-berlin", "TEC-MON-27Q", "ham", "ber", 10),)
# key, sku, warehouse, signed quantity, reason
ADJUSTMENTS = (
    ("forklift-damage", "CHR-VIS-010", "ber", -2, "Damaged in handling (forklift)"),
    ("cycle-count-paper", "CON-PAP-A4", "ham", 5, "Cycle count: one layer not booked in"),
)

# --- Customers ------------------------------------------------------------------------------

CUSTOM_FIELDS = (
    {
        "key": "segment",
        "label": "Segment",
        "type": "select",
        "options": ["smb", "mid-market", "enterprise"],
    },
    {"key": "vat_id", "label": "VAT ID", "type": "text"},
    {"key": "headcount", "label": "Headcount", "type": "number"},
)


@dataclass(frozen=True)
class Customer:
    key: str
    kind: str
    name: str
    email: str
    phone: str
    industry: str
    owner: str
    billing: Address
    credit_limit: str | None = None
    payment_terms_days: int | None = None
    tags: tuple[str, ...] = ()
    custom_fields: dict[str, Any] = field(default_factory=dict)
    shipping: Address | None = None
    # name, email, phone, title; the first is the primary contact
    contacts: tuple[tuple[str, str, str, str], ...] = ()


def _domain(slug: str) -> str:
    return f"{slug}.example.com"


CUSTOMERS = (
    Customer(
        "brightlane", "company", "Brightlane Logistics GmbH", f"purchasing@{_domain('brightlane')}",
        "+49 40 5550 1100", "Logistics", "noah.becker",
        address("Kehrwieder 8", "20457", "Hamburg", "DE"), "60000.00", 30, ("key-account",),
        {"segment": "enterprise", "vat_id": "DE811234567", "headcount": 420},
        shipping=address("Am Sandtorkai 50", "20457", "Hamburg", "DE"),
        contacts=(
            ("Greta Lindner", f"greta.lindner@{_domain('brightlane')}", "+49 40 5550 1101",
             "Head of Facilities"),
            ("Moritz Kaiser", f"moritz.kaiser@{_domain('brightlane')}", "+49 40 5550 1102",
             "Procurement Manager"),
            ("Ayse Demir", f"ayse.demir@{_domain('brightlane')}", "+49 40 5550 1103",
             "Office Manager"),
        ),
    ),
    Customer(
        "kessler", "company", "Kessler & Partner Rechtsanwälte",
        f"kanzlei@{_domain('kessler-partner')}",
        "+49 89 5550 2200", "Legal services", "mia.keller",
        address("Maximilianstraße 21", "80539", "München", "DE"), "25000.00", 14, ("law-firm",),
        {"segment": "mid-market", "vat_id": "DE812345678", "headcount": 45},
        contacts=(
            ("Dr. Felicitas Kessler", f"f.kessler@{_domain('kessler-partner')}",
             "+49 89 5550 2201", "Managing Partner"),
            ("Jan Vogel", f"j.vogel@{_domain('kessler-partner')}", "+49 89 5550 2202",
             "Office Manager"),
        ),
    ),
    Customer(
        "helix", "company", "Helix Biotech AG", f"procurement@{_domain('helix-biotech')}",
        "+41 61 555 3300", "Life sciences", "noah.becker",
        address("Aeschenvorstadt 55", "4051", "Basel", "CH"), "80000.00", 30,
        ("key-account", "expansion"),
        {"segment": "enterprise", "vat_id": "CHE-123.456.789", "headcount": 610},
        contacts=(
            ("Lukas Meier", f"lukas.meier@{_domain('helix-biotech')}", "+41 61 555 3301",
             "Head of Workplace"),
            ("Sina Frei", f"sina.frei@{_domain('helix-biotech')}", "+41 61 555 3302",
             "Buyer"),
        ),
    ),
    Customer(
        "polaris", "company", "Polaris Software GmbH", f"office@{_domain('polaris-software')}",
        "+49 30 5550 4400", "Software", "mia.keller",
        address("Torstraße 140", "10119", "Berlin", "DE"), "40000.00", 30, ("startup-program",),
        {"segment": "mid-market", "vat_id": "DE813456789", "headcount": 120},
        contacts=(
            ("Hanna Busch", f"hanna.busch@{_domain('polaris-software')}", "+49 30 5550 4401",
             "People & Workplace Lead"),
            ("Daniel Roth", f"daniel.roth@{_domain('polaris-software')}", "+49 30 5550 4402",
             "CFO"),
        ),
    ),
    Customer(
        "vandenberg", "company", "Van den Berg Architecten B.V.", f"info@{_domain('vdberg-arch')}",
        "+31 20 555 5500", "Architecture", "jonas.weber",
        address("Prinsengracht 263", "1016 GV", "Amsterdam", "NL"), "20000.00", 30, (),
        {"segment": "smb", "vat_id": "NL123456789B01", "headcount": 18},
        contacts=(
            ("Pieter van den Berg", f"pieter@{_domain('vdberg-arch')}", "+31 20 555 5501",
             "Founder"),
        ),
    ),
    Customer(
        "alpenblick", "company", "Hotel Alpenblick GmbH", f"einkauf@{_domain('alpenblick-hotel')}",
        "+43 512 555 600", "Hospitality", "jonas.weber",
        address("Innrain 12", "6020", "Innsbruck", "AT"), "15000.00", 30, ("hospitality",),
        {"segment": "smb", "headcount": 60},
        contacts=(
            ("Veronika Huber", f"v.huber@{_domain('alpenblick-hotel')}", "+43 512 555 601",
             "General Manager"),
        ),
    ),
    Customer(
        "rheinwerk", "company", "Rheinwerk Maschinenbau GmbH", f"einkauf@{_domain('rheinwerk-mb')}",
        "+49 221 5550 7700", "Manufacturing", "noah.becker",
        address("Deutz-Mülheimer Straße 30", "51063", "Köln", "DE"), "50000.00", 60,
        ("key-account",), {"segment": "enterprise", "vat_id": "DE814567890", "headcount": 850},
        contacts=(
            ("Ralf Schreiber", f"ralf.schreiber@{_domain('rheinwerk-mb')}", "+49 221 5550 7701",
             "Head of Purchasing"),
            ("Petra Klein", f"petra.klein@{_domain('rheinwerk-mb')}", "+49 221 5550 7702",
             "Facility Manager"),
        ),
    ),
    Customer(
        "stadtwerke", "company", "Stadtwerke Lindenau", f"vergabe@{_domain('stadtwerke-lindenau')}",
        "+49 341 5550 8800", "Public sector", "sales_manager",
        address("Am Wasserturm 1", "04179", "Leipzig", "DE"), "30000.00", 30, ("public-tender",),
        {"segment": "enterprise", "headcount": 380},
        contacts=(
            ("Birgit Hahn", f"birgit.hahn@{_domain('stadtwerke-lindenau')}", "+49 341 5550 8801",
             "Procurement Officer"),
        ),
    ),
    Customer(
        "coworkly", "company", "Coworkly Spaces GmbH", f"hello@{_domain('coworkly')}",
        "+49 30 5550 9900", "Real estate", "lea.fischer",
        address("Skalitzer Straße 85", "10997", "Berlin", "DE"), "20000.00", 14,
        ("startup-program",), {"segment": "smb", "vat_id": "DE815678901", "headcount": 25},
        contacts=(
            ("Leon Wolff", f"leon@{_domain('coworkly')}", "+49 30 5550 9901",
             "Co-founder & COO"),
        ),
    ),
    Customer(
        "nordlicht", "company", "Nordlicht Media KG", f"studio@{_domain('nordlicht-media')}",
        "+49 40 5551 0100", "Media", "sales",
        address("Schanzenstraße 70", "20357", "Hamburg", "DE"), "18000.00", 30, (),
        {"segment": "smb", "headcount": 32},
        contacts=(
            ("Svenja Krüger", f"svenja@{_domain('nordlicht-media')}", "+49 40 5551 0101",
             "Studio Manager"),
        ),
    ),
    # A low credit limit: the seed's order above it waits on hold until finance releases it.
    Customer(
        "kornblume", "company", "Backstube Kornblume", f"info@{_domain('backstube-kornblume')}",
        "+49 331 5551 1100", "Food & beverage", "emma.schulz",
        address("Brandenburger Straße 3", "14467", "Potsdam", "DE"), "1000.00", 14, ("bakery",),
        {"segment": "smb", "headcount": 12},
        contacts=(
            ("Ole Jansen", f"ole@{_domain('backstube-kornblume')}", "+49 331 5551 1101",
             "Owner"),
        ),
    ),
    # Its order stays on hold (finance has not decided yet).
    Customer(
        "lindqvist", "company", "Studio Lindqvist Design ApS",
        f"studio@{_domain('lindqvist-design')}",
        "+45 33 55 12 00", "Design", "lea.fischer",
        address("Bredgade 36", "1260", "København", "DK"), "500.00", 14, (),
        {"segment": "smb", "headcount": 6},
        contacts=(
            ("Freja Lindqvist", f"freja@{_domain('lindqvist-design')}", "+45 33 55 12 01",
             "Creative Director"),
        ),
    ),
    Customer(
        "roth", "person", "Dr. Katharina Roth", f"katharina.roth@{_domain('praxis-roth')}",
        "+49 761 5551 3300", "Healthcare", "emma.schulz",
        address("Kaiser-Joseph-Straße 200", "79098", "Freiburg", "DE"), tags=("home-office",),
    ),
    Customer(
        "neumann", "person", "Tobias Neumann", f"tobias@{_domain('neumann-dev')}",
        "+49 176 5551 4400", "Software", "sales",
        address("Boxhagener Straße 33", "10245", "Berlin", "DE"), tags=("freelancer",),
    ),
    Customer(
        "vogt", "person", "Amelie Vogt", f"amelie@{_domain('vogt-interiors')}",
        "+49 351 5551 5500", "Interior design", "jonas.weber",
        address("Königsbrücker Straße 48", "01099", "Dresden", "DE"), tags=("designer",),
    ),
    Customer(
        "bianchi", "person", "Marco Bianchi", f"marco@{_domain('bianchi-studio')}",
        "+39 0471 555 660", "Photography", "mia.keller",
        # Payment due on receipt: an unpaid invoice of his is overdue from the next day on.
        address("Via dei Portici 15", "39100", "Bolzano", "IT"), "5000.00", 0,
    ),
)  # fmt: skip

# Finance's later changes to terms (credit limits of new customers come with their creation).
CREDIT_REVIEWS = (
    ("helix", {"credit_limit": "100000.00", "payment_terms_days": 45}),
    ("alpenblick", {"payment_terms_days": 21}),
)

# --- Pipeline -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lead:
    key: str
    name: str
    company: str | None
    source: str
    owner: str
    # new, contacted, qualified, converted, disqualified
    status: str
    notes: str | None = None
    reason: str | None = None  # disqualified
    # converted: an existing customer key to link, else a new customer
    link_customer: str | None = None
    # converted: (name, amount, days to close) of the opportunity it opens
    opportunity: tuple[str, str, int] | None = None
    industry: str | None = None

    @property
    def email(self) -> str:
        first, _, last = self.name.lower().partition(" ")
        domain = (self.company or last).lower().split()[0].replace("&", "")
        return f"{first}.{last.replace(' ', '')}@{_domain(domain)}"


LEADS = (
    Lead("hoffmeister", "Jan Hoffmeister", "Hoffmeister Steuerberatung", "web", "emma.schulz",
         "new", "Contact form: 8 workstations for a new office."),
    Lead("yilmaz", "Sara Yilmaz", "Yilmaz Dental Clinic", "referral", "lea.fischer", "new",
         "Referred by Dr. Roth; waiting room and reception."),
    Lead("lorenz", "Peter Lorenz", "Lorenz Bau GmbH", "trade-fair", LEAVER, "new",
         "Met at Orgatec; site containers need desks."),
    Lead("albrecht", "Nina Albrecht", None, "web", "sales", "new",
         "Home office: desk and chair."),
    Lead("brandt", "Oliver Brandt", "Brandt Fitness Studios", "cold-call", "emma.schulz",
         "contacted", "Three studios, front desks and lockers."),
    Lead("sommer", "Julia Sommer", "Sommer Eventagentur", "web", "jonas.weber", "contacted"),
    Lead("petersen", "Kai Petersen", "Petersen Reederei", "trade-fair", LEAVER, "contacted",
         "Shipping office refurbishment in spring."),
    Lead("arslan", "Mehmet Arslan", "Arslan Logistik", "referral", "lea.fischer", "contacted"),
    Lead("otto", "Franziska Otto", "Otto Versicherungsmakler", "web", "mia.keller",
         "qualified", "Budget approved for Q1; 15 sit-stand desks."),
    Lead("larsen", "Henrik Larsen", "Larsen Shipping ApS", "partner", "noah.becker",
         "qualified", "Copenhagen office, 40 seats."),
    Lead("costa", "Isabel Costa", "Costa Immobilien", "web", "jonas.weber", "qualified"),
    Lead("berger", "Anna Berger", "Berger Zahntechnik GmbH", "web", "lea.fischer", "converted",
         "Dental lab: workstations and stools.",
         opportunity=("Berger Zahntechnik: lab workstations", "8400.00", 30),
         industry="Healthcare"),
    Lead("krause", "Stefan Krause", "Krause Elektro GmbH", "trade-fair", "mia.keller",
         "converted", opportunity=("Krause Elektro: office move", "15600.00", 45),
         industry="Construction"),
    Lead("engel", "Lisa Engel", "Helix Biotech AG", "referral", "noah.becker", "converted",
         "New contact at Helix: conference rooms.", link_customer="helix",
         opportunity=("Helix: conference rooms", "21000.00", 60)),
    Lead("maier", "Florian Maier", None, "web", "sales", "converted",
         "Freelance architect, ordering for his studio.", industry="Architecture"),
    Lead("graf", "Thomas Graf", "Graf Consulting", "web", "emma.schulz", "disqualified",
         reason="Student project, no purchasing budget"),
    Lead("schubert", "Eva Schubert", "Schubert Kita gGmbH", "web", "lea.fischer",
         "disqualified", reason="Needs children's furniture, not in our range"),
    Lead("spam", "Max Mustermann", "Example Trading Ltd", "web", "lea.fischer", "disqualified",
         reason="Fake contact details"),
)  # fmt: skip


@dataclass(frozen=True)
class Opportunity:
    key: str
    customer: str
    name: str
    amount: str
    owner: str
    # the open stage it is moved to, one /stage at a time from prospecting
    stage: str
    close_in_days: int
    # closed once its quotes are decided: won, or lost with the reason (an accepted quote
    # wins its opportunity by itself)
    outcome: str | None = None
    loss_reason: str | None = None


OPPORTUNITIES = (
    Opportunity("brightlane-refit", "brightlane", "Brightlane: HQ floor 3 refit", "48000.00",
                "noah.becker", "negotiation", 10),
    Opportunity("helix-lab", "helix", "Helix: lab offices, 60 workstations", "96000.00",
                "noah.becker", "proposal", 40),
    Opportunity("polaris-hires", "polaris", "Polaris: new hires Q1", "18500.00", "mia.keller",
                "proposal", 14),
    Opportunity("polaris-desks", "polaris", "Polaris: standing desks for all", "31000.00",
                "mia.keller", "negotiation", 5, "won"),
    Opportunity("kessler-partners", "kessler", "Kessler: partner offices", "12400.00",
                "mia.keller", "proposal", 20, "lost", "Chose a cheaper supplier"),
    Opportunity("rheinwerk-openspace", "rheinwerk", "Rheinwerk: engineering open space",
                "35000.00", "noah.becker", "negotiation", 25),
    Opportunity("rheinwerk-canteen", "rheinwerk", "Rheinwerk: canteen furniture", "16000.00",
                "noah.becker", "qualification", 30, "lost", "Budget moved to next year"),
    Opportunity("stadtwerke-framework", "stadtwerke", "Stadtwerke: framework agreement",
                "120000.00", "sales_manager", "qualification", 90),
    Opportunity("vandenberg-studio", "vandenberg", "Van den Berg: studio upgrade", "9800.00",
                "jonas.weber", "prospecting", 60),
    Opportunity("alpenblick-lounge", "alpenblick", "Alpenblick: reception and lounge",
                "14000.00", "jonas.weber", "proposal", 21),
    Opportunity("coworkly-second", "coworkly", "Coworkly: second location", "26000.00",
                "lea.fischer", "negotiation", 7),
    Opportunity("nordlicht-suites", "nordlicht", "Nordlicht: editing suites", "7900.00",
                "sales", "qualification", 30),
    Opportunity("roth-practice", "roth", "Dr. Roth: practice office", "3200.00",
                "emma.schulz", "prospecting", 45),
)  # fmt: skip

# sku, quantity, discount_pct
Line = tuple[str, int, str]


@dataclass(frozen=True)
class Quote:
    key: str
    customer: str
    owner: str
    # draft, sent, accepted, rejected; an accepted one becomes an ERP order
    status: str
    lines: tuple[Line, ...]
    valid_days: int = 30
    opportunity: str | None = None
    notes: str | None = None
    reason: str | None = None  # rejected


QUOTES = (
    Quote("brightlane-refit", "brightlane", "noah.becker", "accepted",
          (("DSK-SIT-160", 12, "8"), ("CHR-ERG-200", 12, "8"), ("TEC-ARM-DUO", 12, "5"),
           ("ACC-PNL-ACU", 12, "0")),
          opportunity="brightlane-refit", notes="Delivery to Am Sandtorkai, loading dock B."),
    Quote("polaris-hires", "polaris", "mia.keller", "accepted",
          (("CHR-ERG-100", 8, "5"), ("DSK-SIT-140", 8, "5"), ("TEC-MON-27Q", 8, "0"),
           ("TEC-KBD-WL", 8, "0")),
          opportunity="polaris-hires"),
    Quote("coworkly-second", "coworkly", "lea.fischer", "accepted",
          (("DSK-FIX-160", 20, "10"), ("CHR-ERG-100", 20, "10"), ("LGT-DSK-LED", 20, "0"),
           ("ACC-CBL-KIT", 20, "0")),
          opportunity="coworkly-second"),
    Quote("bianchi-studio", "bianchi", "mia.keller", "accepted",
          (("DSK-SIT-160", 1, "0"), ("CHR-ERG-200", 1, "0"), ("TEC-MON-34W", 1, "0"),
           ("ACC-CBL-KIT", 1, "0"))),
    Quote("rheinwerk-monitors", "rheinwerk", "noah.becker", "accepted",
          (("TEC-MON-27Q", 10, "3"), ("TEC-DCK-U4", 10, "3"))),
    Quote("helix-lab", "helix", "noah.becker", "sent",
          (("DSK-SIT-160", 30, "12"), ("CHR-ERG-200", 30, "12"), ("STO-PED-003", 30, "10")),
          valid_days=30, opportunity="helix-lab"),
    # Valid through the day it is sent: the CRM's expiry sweep expires it the day after.
    Quote("alpenblick-lounge", "alpenblick", "jonas.weber", "sent",
          (("CHR-VIS-010", 24, "5"), ("DSK-CNF-240", 1, "0"), ("ACC-WBD-180", 1, "0")),
          valid_days=0, opportunity="alpenblick-lounge"),
    Quote("vogt-samples", "vogt", "jonas.weber", "sent",
          (("CHR-ERG-100", 2, "0"), ("LGT-DSK-LED", 2, "0")), valid_days=14),
    Quote("kessler-partners", "kessler", "mia.keller", "rejected",
          (("DSK-FIX-160", 6, "5"), ("CHR-ERG-200", 6, "5"), ("STO-CAB-120", 3, "0")),
          opportunity="kessler-partners", reason="Chose a cheaper supplier"),
    Quote("vandenberg-chairs", "vandenberg", "jonas.weber", "rejected",
          (("CHR-STL-020", 6, "0"),), reason="Postponed until the new studio opens"),
    Quote("rheinwerk-openspace", "rheinwerk", "noah.becker", "draft",
          (("DSK-SIT-140", 24, "10"), ("CHR-ERG-100", 24, "10"), ("ACC-PNL-ACU", 24, "10")),
          opportunity="rheinwerk-openspace", notes="Draft: awaiting the floor plan."),
    Quote("stadtwerke-framework", "stadtwerke", "sales_manager", "draft",
          (("CHR-ERG-100", 50, "15"), ("DSK-FIX-160", 50, "15")),
          valid_days=60, opportunity="stadtwerke-framework"),
    Quote("roth-practice", "roth", "emma.schulz", "draft",
          (("DSK-FIX-160", 1, "0"), ("CHR-ERG-100", 1, "0"), ("STO-CAB-120", 1, "0"))),
)  # fmt: skip

# --- Orders entered directly in ERP (by the development sales user) --------------------------


@dataclass(frozen=True)
class DirectOrder:
    key: str
    customer: str
    lines: tuple[Line, ...]
    notes: str | None = None


DIRECT_ORDERS = (
    DirectOrder("nordlicht-suites", "nordlicht",
                (("TEC-MON-34W", 4, "0"), ("TEC-HDS-ANC", 4, "0"), ("TEC-CAM-4K", 2, "0")),
                "Deliver to the studio entrance in the back yard."),
    DirectOrder("neumann-desk", "neumann", (("DSK-SIT-140", 1, "0"), ("ACC-FTR-ADJ", 1, "0"))),
    DirectOrder("kornblume-office", "kornblume",
                (("DSK-FIX-160", 2, "0"), ("CHR-ERG-100", 2, "0"), ("FNB-COF-1KG", 10, "0"))),
    DirectOrder("stadtwerke-meeting", "stadtwerke",
                (("TEC-SPK-360", 6, "0"), ("CON-MRK-SET", 10, "0"))),
    DirectOrder("polaris-desks", "polaris", (("DSK-SIT-160", 25, "10"),)),
    DirectOrder("lindqvist-lamps", "lindqvist", (("LGT-DSK-LED", 6, "0"), ("CHR-STL-020", 3, "0"))),
    DirectOrder("roth-supplies", "roth",
                (("CON-PAP-A4", 4, "0"), ("CON-TNR-BK", 2, "0"), ("FNB-TEA-ASS", 2, "0"))),
)  # fmt: skip

# What happens to each order, by its quote or direct-order key:
#   ship_all, ship_part (about half of the first line), ship_twice (two shipments),
#   deliver (after shipping all), cancel, release (a credit hold), and payments per invoice
#   (in invoice order): "full", "part" (40 %) or None (left unpaid).
FULFILMENT: dict[str, dict[str, Any]] = {
    "brightlane-refit": {"ship": "all", "deliver": True, "pay": ["full"]},
    "polaris-hires": {"ship": "all", "pay": ["part"]},
    "coworkly-second": {"ship": "part", "pay": [None]},
    "bianchi-studio": {"ship": "twice", "deliver": True, "pay": ["full", None]},
    "rheinwerk-monitors": {},
    "nordlicht-suites": {"ship": "all", "deliver": True, "pay": ["full"]},
    "neumann-desk": {"cancel": "Customer ordered twice by mistake"},
    "kornblume-office": {"release": True, "ship": "all", "pay": [None]},
    "stadtwerke-meeting": {},
    "polaris-desks": {},
    "lindqvist-lamps": {},
    "roth-supplies": {"ship": "all", "pay": ["full"]},
}
CARRIERS = ("DHL", "DB Schenker", "UPS", "DPD")
PAYMENT_METHODS = ("bank_transfer", "card", "direct_debit", "bank_transfer", "cash")

# --- Activities and support ----------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    key: str
    kind: str  # call, email, meeting, note, visit
    subject: str
    target: str  # customer:<key>, lead:<key>, opportunity:<key>
    days_ago: int
    by: str  # the role logging it: sales, sales_manager or support
    body: str | None = None
    location: tuple[float, float] | None = None


ACTIVITIES = (
    Activity("a01", "visit", "Site visit: floor 3 measurements", "customer:brightlane", 21,
             "sales_manager", "Measured the floor with Greta; 12 desks by the windows.",
             (53.5438, 9.9862)),
    Activity("a02", "meeting", "Refit proposal walkthrough", "opportunity:brightlane-refit", 12,
             "sales_manager", "Agreed on Aria Pro chairs; discount 8 % on desks and chairs."),
    Activity("a03", "call", "Delivery window for the refit", "customer:brightlane", 2,
             "sales_manager", "Deliveries Tuesday to Thursday, 7-11 am."),
    Activity("a04", "email", "Sent lab office proposal", "opportunity:helix-lab", 5,
             "sales_manager"),
    Activity("a05", "meeting", "Workplace strategy workshop", "customer:helix", 30,
             "sales_manager", "Helix grows by 60 seats in the new lab building."),
    Activity("a06", "call", "Onboarding kit for new hires", "opportunity:polaris-hires", 9,
             "sales_manager"),
    Activity("a07", "note", "Polaris prefers monthly invoicing", "customer:polaris", 8,
             "sales_manager", "Daniel Roth (CFO) asked for one invoice per shipment."),
    Activity("a08", "email", "Revised quote with cabinets", "opportunity:kessler-partners", 15,
             "sales_manager"),
    Activity("a09", "call", "Lost: price", "opportunity:kessler-partners", 3, "sales_manager",
             "They went with a cheaper local supplier; revisit next year."),
    Activity("a10", "visit", "Showroom visit with the architects", "customer:vandenberg", 18,
             "sales_manager", None, (52.3752, 4.8840)),
    Activity("a11", "meeting", "Lounge concept review", "opportunity:alpenblick-lounge", 6,
             "sales_manager"),
    Activity("a12", "call", "Framework tender timeline", "opportunity:stadtwerke-framework", 11,
             "sales_manager", "Tender publication expected next quarter."),
    Activity("a13", "visit", "Engineering hall walkthrough", "opportunity:rheinwerk-openspace",
             16, "sales_manager", None, (50.9480, 6.9890)),
    Activity("a14", "note", "Canteen budget frozen", "opportunity:rheinwerk-canteen", 4,
             "sales_manager"),
    Activity("a15", "meeting", "Second location planning", "opportunity:coworkly-second", 10,
             "sales_manager"),
    Activity("a16", "call", "Editing suite requirements", "opportunity:nordlicht-suites", 7,
             "sales", "Four 34\" monitors, headsets for the sound desk."),
    Activity("a17", "email", "Order confirmation sent", "customer:nordlicht", 1, "sales"),
    Activity("a18", "call", "Desk for the home office", "customer:neumann", 9, "sales"),
    Activity("a19", "call", "First call", "lead:brandt", 6, "sales_manager",
             "Interested; wants a catalogue."),
    Activity("a20", "email", "Catalogue sent", "lead:sommer", 5, "sales_manager"),
    Activity("a21", "call", "Intro call", "lead:petersen", 8, "sales_manager"),
    Activity("a22", "meeting", "Needs analysis", "lead:otto", 4, "sales_manager",
             "Budget approved; decision in January."),
    Activity("a23", "call", "Qualification call", "lead:larsen", 3, "sales_manager"),
    Activity("a24", "note", "Form submission", "lead:albrecht", 2, "sales"),
    Activity("a25", "call", "Disqualified after call", "lead:graf", 12, "sales_manager"),
    Activity("a26", "call", "Follow-up on damaged delivery", "customer:brightlane", 1, "support"),
    Activity("a27", "email", "Assembly instructions sent", "customer:vandenberg", 2, "support"),
    Activity("a28", "meeting", "Quarterly business review", "customer:rheinwerk", 25,
             "sales_manager", "Happy with delivery times; expanding in spring."),
    Activity("a29", "note", "Prefers delivery before 9 am", "customer:kornblume", 3,
             "sales_manager"),
    Activity("a30", "visit", "Practice visit", "opportunity:roth-practice", 2, "sales_manager",
             None, (47.9959, 7.8522)),
)  # fmt: skip


@dataclass(frozen=True)
class Inquiry:
    key: str
    customer: str
    channel: str  # email, phone, web, chat, in_person
    subject: str
    priority: str  # low, normal, high, urgent
    assignee: str  # an employee key or `support`
    # new, open, pending, resolved, closed
    status: str
    order: str | None = None  # a quote or direct-order key
    body: str | None = None
    resolution: str | None = None


INQUIRIES = (
    Inquiry("billing-address", "kessler", "email", "Please update our invoice address", "low",
            "lukas.hoffmann", "new", body="We moved to the 3rd floor, same building."),
    Inquiry("assembly", "vandenberg", "web", "Assembly instructions for the drafting stools",
            "normal", "support", "new"),
    Inquiry("squeaky-chair", "neumann", "chat", "Chair squeaks after two weeks", "normal",
            "lukas.hoffmann", "new"),
    Inquiry("damaged", "brightlane", "email", "Delivery arrived damaged", "high",
            "clara.wagner", "open", "brightlane-refit",
            "Two desk frames have bent legs; photos attached."),
    Inquiry("missing-cable-kit", "bianchi", "phone", "Cable kit missing from the shipment",
            "normal", "support", "open", "bianchi-studio"),
    Inquiry("speakerphones", "stadtwerke", "email", "When will the speakerphones arrive?",
            "high", "support", "open", "stadtwerke-meeting"),
    Inquiry("monitor-flicker", "polaris", "phone", "Monitor flickers over USB-C", "normal",
            "lukas.hoffmann", "pending", "polaris-hires",
            "Asked the customer for the laptop model and cable used."),
    Inquiry("invoice-copy", "coworkly", "email", "Copy of the invoice, please", "low",
            "support", "pending", "coworkly-second"),
    Inquiry("wrong-colour", "nordlicht", "phone", "Headsets delivered in the wrong colour",
            "urgent", "clara.wagner", "resolved", "nordlicht-suites",
            resolution="Exchanged for black ones; courier collected the white set."),
    Inquiry("lead-time", "helix", "web", "Lead time for 30 sit-stand desks", "normal",
            "support", "resolved",
            resolution="Confirmed 2 weeks from order; noted in the quote."),
    Inquiry("cancellation", "neumann", "email", "Please cancel my duplicate order", "normal",
            "support", "closed", "neumann-desk", resolution="Duplicate order cancelled."),
    Inquiry("portal-access", "rheinwerk", "phone", "Access to the supplier portal", "low",
            "lukas.hoffmann", "closed", resolution="Sent the portal invitation again."),
)  # fmt: skip

# --- Finance --------------------------------------------------------------------------------

# code, name, type
ACCOUNTS = (("6100", "Rent", "expense"), ("6200", "Office and utilities", "expense"))
# (account code, monthly amount), budgeted for this month and the next two
BUDGETS = (
    ("4000", "140000.00"),
    ("5000", "80000.00"),
    ("6000", "98000.00"),
    ("6100", "4800.00"),
    ("6200", "1500.00"),
)
# key, memo, reference, lines of (account code, debit, credit), dated the day of the seed
# (the capital on the first of its month). The last is posted last: its reference marks a
# completed seed.
JOURNAL_ENTRIES = (
    ("capital", "Capital contribution by the shareholders", "CAP-2026-01",
     (("1010", "250000.00", "0.00"), ("3000", "0.00", "250000.00"))),
    ("payroll", "Payroll for the month", "PAY-RUN-11",
     (("6000", "97850.00", "0.00"), ("1010", "0.00", "97850.00"))),
    ("utilities", "Electricity and internet, Berlin office", "UTIL-BER-11",
     (("6200", "1320.45", "0.00"), ("1010", "0.00", "1320.45"))),
    ("rent", "Office rent, Berlin", "LEASE-BER-2024-001",
     (("6100", "4800.00", "0.00"), ("1010", "0.00", "4800.00"))),
)  # fmt: skip
