"""What the parts of the large stockroom share: names to make things from, explicit ids, and
choosing by popularity."""
import bisect
import itertools

OPEN_DAYS = 10  # a request stays open about ten days, submitted to handed over

ROLE_SHARE = (("admin", 1), ("manager", 4), ("staff", 10), ("rep", 35))
FIRST = ["Alex", "Sam", "Riley", "Jordan", "Morgan", "Taylor", "Casey", "Jamie", "Robin", "Kim", "Noah", "Mia",
         "Lena", "Omar", "Priya", "Chen", "Sofia", "Lukas", "Emma", "Ben", "Ines", "Tom", "Yara", "Jonas", "Ava"]
LAST = ["Field", "Stone", "Berg", "Novak", "Keller", "Rossi", "Meyer", "Silva", "Okafor", "Larsen", "Weber",
        "Haas", "Brandt", "Costa", "Ito", "Walsh", "Nowak", "Fischer", "Moreau", "Lind"]
GARMENTS = [("POLO", "polo"), ("TEE", "T-shirt"), ("HOOD", "hoodie"), ("FLC", "fleece jacket"),
            ("SOFT", "softshell jacket"), ("QZIP", "quarter-zip"), ("VEST", "vest"), ("RAIN", "rain jacket"),
            ("LSTEE", "long-sleeve tee"), ("OXF", "oxford shirt")]
COLOURS = [("NAVY", "Navy"), ("BLK", "Black"), ("WHT", "White"), ("GRY", "Heather grey"), ("RED", "Red"),
           ("ROY", "Royal blue"), ("GRN", "Forest green"), ("SKY", "Sky blue"), ("CHR", "Charcoal"),
           ("BUR", "Burgundy"), ("ORG", "Orange"), ("TEAL", "Teal")]
SIZES = ["XS", "S", "M", "L", "XL", "XXL", "3XL", "4XL"]
LINES = ["Atlas", "Nimbus", "Orion", "Vega", "Helix", "Quartz", "Summit", "Pulse", "Harbor", "Zenith"]
PRINT_KINDS = [("BRO", "product brochure", "0.85"), ("FLY", "one-pager", "0.12"), ("DS", "datasheet", "0.10"),
               ("CS", "case study", "0.30"), ("PST", "poster", "2.40"), ("PC", "postcard", "0.09")]
PROMO = [("PEN", "ballpoint pen", "0.45", "each"), ("MUG", "ceramic mug", "3.20", "each"),
         ("STK", "sticker pack", "0.60", "pack"), ("TOTE", "canvas tote", "2.75", "each"),
         ("USB", "USB drive 32 GB", "4.90", "each"), ("BTL", "water bottle", "6.10", "each"),
         ("NB", "notebook A5", "3.40", "each"), ("LAN", "lanyard", "0.90", "each"),
         ("CAPS", "baseball cap", "5.50", "each"), ("PWR", "power bank", "11.00", "each")]
DISPLAYS = [("ROLL", "roll-up banner", "95.00"), ("POP", "pop-up booth display", "1450.00"),
            ("FLAG", "beach flag", "160.00"), ("CNTR", "counter with print", "620.00"),
            ("SCRN", "55\" screen stand", "980.00")]
SUPPLIERS = {"apparel": ["Threadline Apparel", "NorthStitch", "Kleiderwerk"],
             "print": ["PrintWorks Ltd", "Druckhaus Nord", "Paperlane"],
             "promo": ["PromoHub", "BagCo", "TechSwag", "GiftLogic"],
             "display": ["ExpoBuild", "PrintWorks Ltd", "Standfest"], "kit": [""]}
CITIES = ["Hamburg", "Berlin", "Munich", "Cologne", "Vienna", "Zurich", "Amsterdam", "Paris", "Milan", "Madrid",
          "London", "Stockholm", "Copenhagen", "Prague", "Warsaw", "Lisbon"]
SHOWS = ["Expo", "Partner day", "Roadshow", "Summit", "Trade fair", "Tech days", "Dealer fair", "Conference"]
# Teams (cost centres) and their budget per quarter at full size (None: no budget): at a tenth of
# the size this quarter, one about at its spend, one over it, one with room, one without a budget.
TEAMS = [("Field sales North", 200_000), ("Field sales South", 100_000), ("Inside sales", 250_000),
         ("Partner sales", None)]
COUNTER_REASONS = ["Handed out at the counter", "Given to new sales hires", "Damaged on the shelf",
                   "Used for a customer visit", "Sent to a partner"]


class _Ids:
    """Explicit primary keys, so rows can refer to each other before they are written."""

    def __init__(self):
        self.counters = {}

    def next(self, table):
        self.counters[table] = self.counters.get(table, 0) + 1
        return self.counters[table]


def _zipf_cumulative(count, rng, exponent=1.0):
    """Cumulative Zipf weights over `count` things in a random order of popularity."""
    ranks = list(range(1, count + 1))
    rng.shuffle(ranks)
    weights = [1.0 / rank ** exponent for rank in ranks]
    return weights, list(itertools.accumulate(weights))


def _pick(rng, population, cumulative):
    return population[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]
