/* demo_text.c - see demo_text.h. The tables are plain data: editing a word
 * changes the demo data set but never its shape. */
#include "cli/demo_text.h"

#include <stdio.h>
#include <string.h>

#define LIST(a) {(a), sizeof(a) / sizeof((a)[0])}

/* ---- names ------------------------------------------------------------ */

static const char *const en_female[] = {
    "Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophie", "Grace", "Lily",
    "Chloe", "Ella", "Hannah", "Jessica", "Lucy", "Charlotte", "Megan",
    "Emma", "Madison", "Abigail", "Harper", "Zoe", "Priya", "Aisha", "Mei",
    "Niamh", "Aoife", "Siobhan", "Rachel", "Laura", "Sarah", "Fatima",
    "Keisha", "Maya"};
static const char *const en_male[] = {
    "Oliver", "George", "Harry", "Jack", "Noah", "Charlie", "Jacob", "Thomas",
    "James", "William", "Daniel", "Samuel", "Liam", "Ethan", "Mason",
    "Logan", "Lucas", "Michael", "David", "Ryan", "Connor", "Sean", "Cian",
    "Darragh", "Arjun", "Omar", "Tyrone", "Marcus", "Kevin", "Wei", "Ahmed",
    "Ben"};
static const char *const de_female[] = {
    "Mia", "Emilia", "Hannah", "Lea", "Lena", "Anna", "Marie", "Sophia",
    "Johanna", "Clara", "Leonie", "Katharina", "Julia", "Sabine", "Petra",
    "Ursula", "Monika", "Jana", "Franziska", "Greta", "Ida", "Frieda",
    "Charlotte", "Nele", "Svenja", "Jülide", "Ayşe", "Maren"};
static const char *const de_male[] = {
    "Lukas", "Leon", "Finn", "Paul", "Jonas", "Felix", "Maximilian", "Elias",
    "Noah", "Ben", "Moritz", "Tobias", "Florian", "Stefan", "Andreas",
    "Jürgen", "Klaus", "Matthias", "Sebastian", "Niklas", "Jan", "Henrik",
    "Mehmet", "Emre", "Dirk", "Torsten", "Uwe", "Till"};
static const char *const fr_female[] = {
    "Emma", "Jade", "Louise", "Alice", "Chloé", "Léa", "Manon", "Camille",
    "Inès", "Juliette", "Zoé", "Léna", "Sarah", "Élodie", "Margaux",
    "Amandine", "Céline", "Nathalie", "Isabelle", "Sophie", "Aurélie",
    "Mathilde", "Yasmine", "Océane", "Clémence", "Nadia"};
static const char *const fr_male[] = {
    "Gabriel", "Léo", "Raphaël", "Louis", "Lucas", "Hugo", "Arthur", "Jules",
    "Adam", "Nathan", "Théo", "Antoine", "Maxime", "Nicolas", "Julien",
    "Thomas", "Guillaume", "Pierre", "François", "Mathieu", "Karim",
    "Sébastien", "Yanis", "Baptiste", "Clément", "Olivier"};
static const char *const es_female[] = {
    "Lucía", "Sofía", "Martina", "María", "Paula", "Julia", "Valeria",
    "Daniela", "Alba", "Carmen", "Elena", "Laura", "Marta", "Cristina",
    "Ana", "Isabel", "Noelia", "Irene", "Sara", "Nerea", "Ainhoa", "Rocío",
    "Pilar", "Montserrat", "Claudia", "Beatriz"};
static const char *const es_male[] = {
    "Hugo", "Martín", "Lucas", "Mateo", "Leo", "Daniel", "Alejandro", "Pablo",
    "Manuel", "Álvaro", "Adrián", "David", "Mario", "Javier", "Sergio",
    "Carlos", "José", "Antonio", "Francisco", "Diego", "Iker", "Jorge",
    "Raúl", "Rubén", "Íñigo", "Fernando"};
static const char *const nl_female[] = {
    "Emma", "Julia", "Tess", "Sophie", "Zoë", "Mila", "Sara", "Anna", "Eva",
    "Noor", "Fenna", "Lotte", "Sanne", "Femke", "Anouk", "Ilse", "Marieke",
    "Esther", "Inge", "Yara", "Fleur", "Roos", "Lieke", "Naima"};
static const char *const nl_male[] = {
    "Noah", "Sem", "Liam", "Lucas", "Daan", "Finn", "Levi", "Luuk", "Milan",
    "Bram", "Thijs", "Jesse", "Ruben", "Sander", "Jeroen", "Bas", "Pieter",
    "Joost", "Maarten", "Wouter", "Stijn", "Tim", "Youssef", "Koen"};

static const char *const en_last[] = {
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson",
    "Davies", "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker",
    "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Khan",
    "Hughes", "Edwards", "Murphy", "Kelly", "O'Brien", "Byrne", "Ryan",
    "Walsh", "Garcia", "Miller", "Davis", "Martinez", "Anderson", "Lee",
    "Nguyen", "Kim", "Okafor", "Singh", "Campbell", "Stewart", "MacDonald",
    "Chen"};
static const char *const de_last[] = {
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
    "Becker", "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter",
    "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner",
    "Krause", "Meier", "Lehmann", "Yilmaz", "Kaya", "Köhler", "Vogel"};
static const char *const fr_last[] = {
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand",
    "Dubois", "Moreau", "Laurent", "Simon", "Michel", "Lefebvre", "Leroy",
    "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard", "Bonnet",
    "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller",
    "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Benali", "Garnier"};
static const char *const es_last[] = {
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez",
    "Sánchez", "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández",
    "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez",
    "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez",
    "Serrano", "Blanco", "Molina", "Castro", "Ortiz", "Rubio", "Marín"};
static const char *const nl_last[] = {
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker",
    "Janssen", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot",
    "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer",
    "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "Kok",
    "Jacobs", "de Haan", "Vermeulen", "van der Heijden", "Schouten",
    "van Beek", "Willems", "Hoekstra"};

static const struct demo_list first_lists[DEMO_G_COUNT][2] = {
    [DEMO_G_EN] = {LIST(en_male), LIST(en_female)},
    [DEMO_G_DE] = {LIST(de_male), LIST(de_female)},
    [DEMO_G_FR] = {LIST(fr_male), LIST(fr_female)},
    [DEMO_G_ES] = {LIST(es_male), LIST(es_female)},
    [DEMO_G_NL] = {LIST(nl_male), LIST(nl_female)},
};
static const struct demo_list last_lists[DEMO_G_COUNT] = {
    [DEMO_G_EN] = LIST(en_last), [DEMO_G_DE] = LIST(de_last),
    [DEMO_G_FR] = LIST(fr_last), [DEMO_G_ES] = LIST(es_last),
    [DEMO_G_NL] = LIST(nl_last),
};

struct demo_list demo_text_first_names(enum demo_group g, bool female)
{
    return first_lists[(unsigned)g < DEMO_G_COUNT ? g : DEMO_G_EN][female];
}

struct demo_list demo_text_last_names(enum demo_group g)
{
    return last_lists[(unsigned)g < DEMO_G_COUNT ? g : DEMO_G_EN];
}

/* ---- countries, cities, phones ----------------------------------------- */

static const char *const gb_cities[] = {
    "London", "Birmingham", "Manchester", "Leeds", "Glasgow", "Liverpool",
    "Bristol", "Sheffield", "Edinburgh", "Cardiff", "Leicester", "Nottingham",
    "Newcastle upon Tyne", "Brighton", "Belfast", "Southampton", "Oxford",
    "Cambridge", "York", "Aberdeen"};
static const char *const us_cities[] = {
    "New York", "Los Angeles", "Chicago", "Houston", "Phoenix",
    "Philadelphia", "San Antonio", "San Diego", "Dallas", "Austin",
    "San Francisco", "Seattle", "Denver", "Boston", "Portland", "Atlanta",
    "Miami", "Minneapolis"};
static const char *const de_cities[] = {
    "Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart",
    "Düsseldorf", "Leipzig", "Dortmund", "Essen", "Bremen", "Dresden",
    "Hannover", "Nürnberg", "Freiburg im Breisgau"};
static const char *const fr_cities[] = {
    "Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Nantes",
    "Montpellier", "Strasbourg", "Bordeaux", "Lille", "Rennes", "Reims",
    "Grenoble", "Dijon", "Annecy"};
static const char *const es_cities[] = {
    "Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga",
    "Murcia", "Palma", "Bilbao", "Alicante", "Córdoba", "Valladolid",
    "Vigo", "Granada", "San Sebastián"};
static const char *const ie_cities[] = {
    "Dublin", "Cork", "Limerick", "Galway", "Waterford", "Drogheda",
    "Dundalk", "Swords", "Bray", "Kilkenny", "Sligo", "Athlone"};
static const char *const nl_cities[] = {
    "Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen",
    "Tilburg", "Almere", "Breda", "Nijmegen", "Haarlem", "Arnhem",
    "Leiden", "Maastricht", "Zwolle"};

/* Weights: a UK-based retailer with a US shop and EU customers. */
static const struct demo_country countries[] = {
    {"GB", "GBP", "en", DEMO_G_EN, 36, LIST(gb_cities)},
    {"US", "USD", "en", DEMO_G_EN, 22, LIST(us_cities)},
    {"DE", "EUR", "de", DEMO_G_DE, 13, LIST(de_cities)},
    {"FR", "EUR", "fr", DEMO_G_FR, 10, LIST(fr_cities)},
    {"ES", "EUR", "es", DEMO_G_ES, 7, LIST(es_cities)},
    {"IE", "EUR", "en", DEMO_G_EN, 5, LIST(ie_cities)},
    {"NL", "EUR", "nl", DEMO_G_NL, 7, LIST(nl_cities)},
};

size_t demo_text_ncountries(void)
{
    return sizeof countries / sizeof countries[0];
}

const struct demo_country *demo_text_country(size_t i)
{
    return &countries[i < demo_text_ncountries() ? i : 0];
}

/* US area codes, so numbers look like those of real US cities. */
static const char *const us_areas[] = {"212", "310", "312", "415", "617",
                                       "206", "512", "303", "305", "404",
                                       "503", "612"};

/* Copies the digits of digits into out along pattern, where each 'x'
 * takes the next digit and any other character is copied. */
static int phone_format(const char *digits, const char *pattern, char *out,
                        size_t outsz)
{
    size_t o = 0;
    for (const char *p = pattern; *p; p++) {
        char c = *p == 'x' ? *digits++ : *p;
        if (!c || o + 1 >= outsz)
            return CXM_ETOOBIG;
        out[o++] = c;
    }
    out[o] = '\0';
    /* A digit left over would be a pattern too short for its number. */
    return *digits ? CXM_ETOOBIG : CXM_OK;
}

int demo_text_phone(size_t country, uint32_t n, char *out, size_t outsz)
{
    /* The seven digits of n appear in every format, after a national
     * mobile or city prefix, so distinct n give distinct numbers. */
    char d7[8], digits[16];
    int w = snprintf(d7, sizeof d7, "%07u", (unsigned)(n % 10000000u));
    if (w != 7)
        return CXM_ETOOBIG;
    char f = (char)('0' + (n / 7u) % 10u);   /* a filler digit */
    const char *iso = demo_text_country(country)->iso, *pattern;
    if (strcmp(iso, "GB") == 0 && n % 3 == 0) {          /* London */
        w = snprintf(digits, sizeof digits, "0207%s", d7);
        pattern = "xxx xxxx xxxx";
    } else if (strcmp(iso, "GB") == 0) {                  /* mobile 074-079 */
        w = snprintf(digits, sizeof digits, "07%c%c%s", (char)('4' + n % 6u),
                     f, d7);
        pattern = "xxxxx xxxxxx";
    } else if (strcmp(iso, "US") == 0) {
        /* Exchanges start with 2-9: 200 + the first three digits (< 800). */
        unsigned exch = 200u + (unsigned)(n / 10000u) % 800u;
        w = snprintf(digits, sizeof digits, "%s%03u%04u",
                     us_areas[(n / 7u) % (sizeof us_areas / sizeof us_areas[0])],
                     exch, (unsigned)(n % 10000u));
        pattern = "(xxx) xxx-xxxx";
    } else if (strcmp(iso, "DE") == 0) {                  /* mobile 0151-0157 */
        w = snprintf(digits, sizeof digits, "015%c%c%s", (char)('1' + n % 7u),
                     f, d7);
        pattern = "xxxx xxxxxxxx";
    } else if (strcmp(iso, "FR") == 0) {                  /* mobile 06/07 */
        w = snprintf(digits, sizeof digits, "0%c%c%s", (char)('6' + n % 2u),
                     f, d7);
        pattern = "xx xx xx xx xx";
    } else if (strcmp(iso, "ES") == 0) {                  /* mobile 6xx */
        w = snprintf(digits, sizeof digits, "6%c%s", f, d7);
        pattern = "xxx xxx xxx";
    } else if (strcmp(iso, "IE") == 0) {                  /* mobile 083-089 */
        static const char ie[] = "35679";
        w = snprintf(digits, sizeof digits, "08%c%s", ie[n % 5u], d7);
        pattern = "xxx xxx xxxx";
    } else {                                              /* NL mobile 06 */
        w = snprintf(digits, sizeof digits, "06%c%s", (char)('1' + n % 5u), d7);
        pattern = "xx xxxx xxxx";
    }
    if (w < 0 || (size_t)w >= sizeof digits)
        return CXM_ETOOBIG;
    return phone_format(digits, pattern, out, outsz);
}

/* ---- products ----------------------------------------------------------- */

static const char *const categories[] = {
    "running", "outdoor", "fitness", "apparel", "footwear", "accessories",
    "nutrition", "electronics"};

/* Each product type comes in MODELS_PER_TYPE models; sorted by category so
 * the products of a category are contiguous. Prices in whole pounds. */
struct ptype {
    unsigned char cat;
    const char *code, *name;
    unsigned lo, hi;        /* price range */
    unsigned char max_qty;
};

#define MODELS_PER_TYPE 4

static const struct ptype ptypes[] = {
    {0, "RUN-SHOE", "Road Running Shoe", 70, 160, 1},
    {0, "RUN-TRL", "Trail Running Shoe", 80, 170, 1},
    {0, "RUN-JKT", "Running Jacket", 45, 130, 1},
    {0, "RUN-TGT", "Running Tights", 30, 70, 2},
    {0, "RUN-VST", "Hydration Vest", 40, 110, 1},
    {1, "OUT-TNT", "Two-Person Tent", 120, 420, 1},
    {1, "OUT-BAG", "Sleeping Bag", 60, 240, 1},
    {1, "OUT-PCK", "Hiking Backpack 30L", 55, 180, 1},
    {1, "OUT-BOT", "Hiking Boot", 90, 210, 1},
    {1, "OUT-STV", "Camping Stove", 30, 95, 1},
    {2, "FIT-MAT", "Yoga Mat", 20, 75, 1},
    {2, "FIT-DBL", "Adjustable Dumbbell Set", 90, 320, 1},
    {2, "FIT-BND", "Resistance Band Set", 15, 40, 2},
    {2, "FIT-KTB", "Kettlebell", 25, 90, 2},
    {2, "FIT-ROL", "Foam Roller", 15, 45, 1},
    {3, "APP-TEE", "Training T-Shirt", 15, 45, 3},
    {3, "APP-HDY", "Fleece Hoodie", 40, 90, 2},
    {3, "APP-SHT", "Training Shorts", 18, 45, 2},
    {3, "APP-BRA", "Sports Bra", 25, 60, 2},
    {3, "APP-BSL", "Merino Base Layer", 45, 110, 2},
    {4, "FTW-SNK", "Everyday Sneaker", 55, 120, 1},
    {4, "FTW-SLD", "Recovery Slide", 25, 55, 1},
    {4, "FTW-CRT", "Court Shoe", 60, 130, 1},
    {4, "FTW-SCK", "Cushioned Socks 3-Pack", 12, 24, 3},
    {5, "ACC-BTL", "Insulated Bottle", 18, 40, 2},
    {5, "ACC-CAP", "Running Cap", 15, 30, 1},
    {5, "ACC-BLT", "Waist Belt", 15, 35, 1},
    {5, "ACC-GLV", "Touchscreen Gloves", 15, 35, 1},
    {5, "ACC-HLP", "Head Torch", 25, 80, 1},
    {6, "NUT-GEL", "Energy Gel 12-Pack", 14, 24, 4},
    {6, "NUT-PRO", "Whey Protein 1kg", 22, 45, 3},
    {6, "NUT-BAR", "Protein Bar 12-Pack", 16, 28, 4},
    {6, "NUT-ELC", "Electrolyte Tabs", 7, 14, 5},
    {6, "NUT-RCV", "Recovery Shake", 20, 38, 3},
    {7, "ELE-WCH", "GPS Sports Watch", 150, 520, 1},
    {7, "ELE-HRM", "Heart Rate Strap", 35, 80, 1},
    {7, "ELE-EAR", "Wireless Sport Earbuds", 60, 200, 1},
    {7, "ELE-SCL", "Smart Scale", 45, 130, 1},
};

static const char *const models[] = {
    "Aero", "Pace", "Stride", "Summit", "Ridge", "Tempo", "Vista", "Flux",
    "Nova", "Drift", "Peak", "Arc", "Terra", "Zephyr", "Core"};

#define NPTYPES (sizeof ptypes / sizeof ptypes[0])

size_t demo_text_ncategories(void)
{
    return sizeof categories / sizeof categories[0];
}

const char *demo_text_category(size_t i)
{
    return categories[i < demo_text_ncategories() ? i : 0];
}

void demo_text_category_products(size_t cat, size_t *first, size_t *count)
{
    size_t a = 0;
    while (a < NPTYPES && ptypes[a].cat < cat)
        a++;
    size_t b = a;
    while (b < NPTYPES && ptypes[b].cat == cat)
        b++;
    *first = a * MODELS_PER_TYPE;
    *count = (b - a) * MODELS_PER_TYPE;
}

size_t demo_text_nproducts(void)
{
    return NPTYPES * MODELS_PER_TYPE;
}

int demo_text_product(size_t i, struct demo_product *p)
{
    if (i >= demo_text_nproducts())
        i = 0;
    const struct ptype *t = &ptypes[i / MODELS_PER_TYPE];
    size_t k = i % MODELS_PER_TYPE;
    /* Models of one type spread over the price range, cheapest first; a
     * price ends in .99 except for the top model. */
    unsigned pounds = t->lo + (unsigned)((t->hi - t->lo) * k / (MODELS_PER_TYPE - 1));
    p->price_cents = pounds * 100u - (k + 1 < MODELS_PER_TYPE ? 1u : 0u);
    p->category = t->cat;
    p->max_qty = t->max_qty;
    const char *model = models[(i / MODELS_PER_TYPE * 3 + k) %
                               (sizeof models / sizeof models[0])];
    int a = snprintf(p->sku, sizeof p->sku, "%s-%03zu", t->code, i + 1);
    int b = snprintf(p->name, sizeof p->name, "%s %s", model, t->name);
    return a < 0 || (size_t)a >= sizeof p->sku || b < 0 ||
           (size_t)b >= sizeof p->name ? CXM_ETOOBIG : CXM_OK;
}

/* ---- comment templates -------------------------------------------------- */

/* Slots: {product}, {agent} (a first name), {days}. Every theme has
 * templates in every band, and each names concrete things (the courier, the
 * hold music, the refund) so theme and sentiment analysis have work to do. */
struct tpl {
    unsigned char theme;
    const char *text;
};

#define T_DEL DEMO_TH_DELIVERY
#define T_PRI DEMO_TH_PRICE
#define T_STF DEMO_TH_STAFF
#define T_WAI DEMO_TH_WAITING
#define T_WEB DEMO_TH_WEBSITE
#define T_APP DEMO_TH_APP
#define T_RET DEMO_TH_RETURNS
#define T_BIL DEMO_TH_BILLING
#define T_QUA DEMO_TH_QUALITY

static const struct tpl negative[] = {
    {T_DEL, "My order arrived {days} days late and nobody told me why."},
    {T_DEL, "Still waiting for my {product} after {days} days. The tracking has not moved."},
    {T_DEL, "The courier left the parcel in the rain and the box was soaked through."},
    {T_DEL, "Delivery was promised for Saturday, it came {days} days later. I needed it for a race."},
    {T_DEL, "Tracking said delivered but nothing arrived. Terrible delivery service."},
    {T_DEL, "Paid for next day delivery and waited {days} days. Want my delivery fee back."},
    {T_PRI, "Far too expensive. I found the {product} much cheaper elsewhere."},
    {T_PRI, "Prices went up again and the quality did not. Not worth the money."},
    {T_PRI, "The price dropped a week after I bought the {product} and you refused to match it."},
    {T_PRI, "Shipping costs are ridiculous for such a small order."},
    {T_PRI, "Overpriced compared to other shops, I will not be back."},
    {T_STF, "{agent} was rude to me on the phone and hung up before I finished."},
    {T_STF, "The staff in the store ignored me for ten minutes and then were unhelpful."},
    {T_STF, "{agent} clearly did not listen and gave me the wrong information."},
    {T_STF, "Unfriendly staff who made me feel stupid for asking a question."},
    {T_STF, "I was promised a call back by {agent} and it never happened."},
    {T_WAI, "I was on hold for over an hour before anyone answered."},
    {T_WAI, "Waited {days} days for a reply to my email. Unacceptable."},
    {T_WAI, "The phone line kept me waiting forever and then cut me off."},
    {T_WAI, "Long waits every time I call customer service. The hold music drives me mad."},
    {T_WAI, "The live chat queue said 2 minutes, it took 45."},
    {T_WEB, "The checkout on the website kept crashing when I tried to pay."},
    {T_WEB, "Your website is slow and the search never finds what I need."},
    {T_WEB, "The payment page gave an error three times, I nearly gave up."},
    {T_WEB, "Website logged me out in the middle of checkout and emptied my basket."},
    {T_WEB, "Could not apply my discount code on the website, the page just froze."},
    {T_APP, "The app crashes every time I open my order history."},
    {T_APP, "The app will not let me log in since the last update."},
    {T_APP, "Notifications from the app are spam and the app itself is buggy."},
    {T_APP, "Tried to pay in the app and it charged me but showed an error."},
    {T_RET, "Returning the {product} was a nightmare. Still no refund after {days} days."},
    {T_RET, "The returns portal rejected my return for no reason."},
    {T_RET, "You charged me for the return label on a faulty item. Disgraceful."},
    {T_RET, "Sent the {product} back weeks ago and the refund never came."},
    {T_RET, "The store refused to accept my return without the original box."},
    {T_BIL, "I was charged twice for the same order and nobody could fix it."},
    {T_BIL, "Billing error on my account and {days} days later I am still waiting for the money."},
    {T_BIL, "My invoice shows items I never ordered."},
    {T_BIL, "The refund went to the wrong card and support could not explain it."},
    {T_BIL, "Hidden charges on my bill that nobody told me about."},
    {T_QUA, "The {product} fell apart after two weeks. Poor quality."},
    {T_QUA, "The sole of my {product} came off after a month."},
    {T_QUA, "The {product} looked nothing like the photos and felt cheap."},
    {T_QUA, "Zip broke on the first day. Really disappointed with the quality."},
    {T_QUA, "The {product} arrived damaged and scratched."},
    {T_QUA, "The sizing is completely off, the {product} was two sizes too small."},
};

static const struct tpl mixed[] = {
    {T_DEL, "The {product} is good but delivery took {days} days longer than promised."},
    {T_DEL, "Delivery was a bit slow, otherwise fine."},
    {T_DEL, "Arrived on time but the parcel was left with a neighbour without a note."},
    {T_DEL, "Okay overall. Tracking updates could be better."},
    {T_DEL, "Good products, but the delivery slots are limited."},
    {T_PRI, "Decent quality but a bit pricey for what it is."},
    {T_PRI, "The {product} is fine. I would buy more if the prices were lower."},
    {T_PRI, "Good value in the sale, full price feels too high."},
    {T_PRI, "Average prices, nothing special. Delivery charges add up."},
    {T_PRI, "The loyalty discount helps, but other shops are cheaper."},
    {T_STF, "{agent} was polite but could not really solve my problem."},
    {T_STF, "Staff were friendly, though they did not know much about the {product}."},
    {T_STF, "Helpful in the end, but I had to explain my issue to three people."},
    {T_STF, "The staff tried their best, the process let them down."},
    {T_STF, "{agent} was nice, but I needed a second call to get it sorted."},
    {T_WAI, "Had to wait a while on the phone, but the answer was useful."},
    {T_WAI, "Chat response was slow, the agent was knowledgeable though."},
    {T_WAI, "It took {days} days to get a reply, but the issue was fixed."},
    {T_WAI, "Queue in the store was long, staff were fine once I got to the till."},
    {T_WEB, "The website works, but finding the right size is harder than it should be."},
    {T_WEB, "Checkout was okay, though it asked for my address twice."},
    {T_WEB, "Good range on the website, the filters are clumsy."},
    {T_WEB, "Website is fine on a laptop, awkward on my phone."},
    {T_WEB, "The product pages need better photos, otherwise it is fine."},
    {T_APP, "The app is handy but a little slow to load."},
    {T_APP, "App works most of the time, sometimes forgets my basket."},
    {T_APP, "I like the app, wish order tracking showed more detail."},
    {T_APP, "The app is okay. Too many notifications."},
    {T_RET, "The return was accepted, but the refund took {days} days."},
    {T_RET, "Returns are free, although printing the label was a hassle."},
    {T_RET, "Exchanging the {product} worked, it just took longer than expected."},
    {T_RET, "The returns portal is confusing but the store sorted it out."},
    {T_BIL, "The invoice was confusing, but support explained it."},
    {T_BIL, "Had a small billing mix-up, fixed after a couple of emails."},
    {T_BIL, "Payment options are fine. Would like to pay by invoice."},
    {T_BIL, "Refund arrived, though nobody told me when to expect it."},
    {T_QUA, "The {product} is decent, not amazing. Does the job."},
    {T_QUA, "Quality is okay for the price, nothing more."},
    {T_QUA, "Comfortable {product}, but the colour faded after a few washes."},
    {T_QUA, "The {product} runs a little small, otherwise good quality."},
    {T_QUA, "Mixed feelings: great design, the stitching could be better."},
    {T_QUA, "The {product} is fine but not as durable as my last pair."},
};

static const struct tpl positive[] = {
    {T_DEL, "Fast delivery, my {product} arrived the next day."},
    {T_DEL, "Delivery was quick and the tracking was spot on."},
    {T_DEL, "Ordered on Monday, arrived on Tuesday. Brilliant service."},
    {T_DEL, "Super fast shipping and well packed."},
    {T_DEL, "The courier was friendly and delivery was right on time."},
    {T_PRI, "Great value for money, the {product} was cheaper than anywhere else."},
    {T_PRI, "Fair prices and the loyalty points really add up."},
    {T_PRI, "Excellent value, free delivery made it even better."},
    {T_PRI, "Got the {product} in the sale, fantastic deal."},
    {T_PRI, "Good prices and regular discounts for members. Love it."},
    {T_STF, "{agent} was really helpful and sorted everything in minutes."},
    {T_STF, "Thank you {agent}, friendly and knowledgeable. Great customer service."},
    {T_STF, "The store staff helped me find the perfect {product}."},
    {T_STF, "{agent} went above and beyond to help me. Thank you!"},
    {T_STF, "Helpful staff who really know their products."},
    {T_WAI, "Got through to someone straight away, no waiting at all."},
    {T_WAI, "Live chat answered within a minute. Impressed."},
    {T_WAI, "Quick reply to my email, the same day."},
    {T_WAI, "No queue in the store and the phone line answered quickly."},
    {T_WEB, "The website is easy to use and checkout took a minute."},
    {T_WEB, "Found exactly what I needed with the search, great website."},
    {T_WEB, "Clear product pages and the size guide was accurate."},
    {T_WEB, "Smooth online shopping, payment was quick and easy."},
    {T_WEB, "Love the website, reviews and photos helped me choose the {product}."},
    {T_APP, "The app is great, ordering takes seconds."},
    {T_APP, "Love the app, tracking my order was easy."},
    {T_APP, "The app remembers my sizes, makes shopping so easy."},
    {T_APP, "Really smooth app, the new update is excellent."},
    {T_RET, "Easy returns, the refund was in my account in {days} days."},
    {T_RET, "Returning the {product} in store took two minutes. Hassle free."},
    {T_RET, "Free and easy returns, that is why I keep coming back."},
    {T_RET, "The returns portal is simple and the refund was fast."},
    {T_BIL, "Refund processed quickly, exactly as promised."},
    {T_BIL, "Clear invoice and easy payment, no surprises."},
    {T_BIL, "Billing question answered straight away and fixed the same day."},
    {T_BIL, "Paying with the app is simple and secure."},
    {T_QUA, "Excellent quality, the {product} is the best I have owned."},
    {T_QUA, "The {product} fits perfectly and feels very well made."},
    {T_QUA, "Great quality, my {product} still looks new after months of use."},
    {T_QUA, "Really happy with the {product}, comfortable and durable."},
    {T_QUA, "Top quality products, I recommend them to all my friends."},
    {T_QUA, "Love my new {product}, exactly as described."},
};

static const struct {
    const struct tpl *t;
    size_t n;
} bands[DEMO_BAND_COUNT] = {
    [DEMO_NEGATIVE] = LIST(negative),
    [DEMO_MIXED] = LIST(mixed),
    [DEMO_POSITIVE] = LIST(positive),
};

/* Chat transcripts: the customer's opening by theme, then the agent's
 * answer by how it ended. */
static const struct tpl chat_open[] = {
    {T_DEL, "Customer: Hi, my order was due {days} days ago and the tracking has not changed. Where is it?"},
    {T_DEL, "Customer: The courier says my {product} was delivered but I never got it."},
    {T_PRI, "Customer: I bought the {product} last week and it is now cheaper. Can you match the price?"},
    {T_PRI, "Customer: Why am I paying delivery on an order this size?"},
    {T_STF, "Customer: I want to complain about how I was treated in your store yesterday."},
    {T_STF, "Customer: Nobody called me back although I was promised a call."},
    {T_WAI, "Customer: I have been trying to reach you by phone for {days} days."},
    {T_WAI, "Customer: I emailed last week and nobody has answered."},
    {T_WEB, "Customer: The website shows a payment error every time I try to check out."},
    {T_WEB, "Customer: My discount code is not accepted at checkout."},
    {T_APP, "Customer: The app crashes when I open my orders."},
    {T_APP, "Customer: I cannot log in to the app any more."},
    {T_RET, "Customer: I returned the {product} {days} days ago and still have no refund."},
    {T_RET, "Customer: The returns portal will not let me return my {product}."},
    {T_BIL, "Customer: I have been charged twice for one order."},
    {T_BIL, "Customer: My invoice has an item I did not order."},
    {T_QUA, "Customer: My {product} broke after a few weeks, what can you do?"},
    {T_QUA, "Customer: The {product} I received is damaged."},
};

static const struct tpl chat_resolved[] = {
    {T_DEL, "\nAgent ({agent}): I am sorry about that. I have booked a new delivery for tomorrow and refunded the delivery fee.\nCustomer: Great, thanks for your help!"},
    {T_DEL, "\nAgent ({agent}): The courier confirms it is at your local depot, it will arrive today.\nCustomer: Finally, thank you."},
    {T_PRI, "\nAgent ({agent}): I have matched the price and refunded the difference to your card.\nCustomer: Perfect, thank you."},
    {T_STF, "\nAgent ({agent}): I am sorry, that is not how we want you to be treated. I have told the store manager and added a voucher.\nCustomer: Thank you for listening."},
    {T_WAI, "\nAgent ({agent}): Sorry for the wait, I have sorted it now and you will get a confirmation email shortly.\nCustomer: Great, thanks."},
    {T_WEB, "\nAgent ({agent}): Our developers fixed the payment page. Your basket is saved, please try again.\nCustomer: It worked, thanks."},
    {T_APP, "\nAgent ({agent}): The latest app update fixes this, please install it and log in again.\nCustomer: Working now, thanks."},
    {T_RET, "\nAgent ({agent}): All done, the refund is issued and should show in 3-5 days.\nCustomer: Brilliant, appreciated."},
    {T_BIL, "\nAgent ({agent}): You are right, the second payment was a mistake. I have refunded it.\nCustomer: Brilliant, appreciated."},
    {T_QUA, "\nAgent ({agent}): I can see the problem. A replacement is on its way today.\nCustomer: That is quick, thanks."},
};

static const char *const chat_unresolved[] = {
    "\nAgent ({agent}): I am afraid I cannot change that from here. I will pass it to the team.\nCustomer: That is what I was told last time.",
    "\nAgent ({agent}): Please allow another 5-7 working days.\nCustomer: This is not good enough.",
    "\nAgent ({agent}): I will escalate this to my supervisor who will contact you.\nCustomer: Fine, but I have waited long enough.",
    "\nAgent ({agent}): Our system is down at the moment, can you try again later?\nCustomer: Unbelievable.",
};

size_t demo_text_ntemplates(enum demo_band b)
{
    return (unsigned)b < DEMO_BAND_COUNT ? bands[b].n : 0;
}

/* Appends template t to out at *o with its slots filled; false when out
 * is too small (out stays terminated). */
static bool fill(const char *t, const struct demo_slots *s, char *out,
                 size_t outsz, size_t *o)
{
    static const struct demo_slots none = {NULL, NULL, 0};
    if (!s)
        s = &none;
    while (*t) {
        char num[16];
        const char *add = NULL;
        size_t skip = 1;
        if (*t == '{') {
            if (strncmp(t, "{product}", 9) == 0) {
                add = s->product ? s->product : "order";
                skip = 9;
            } else if (strncmp(t, "{agent}", 7) == 0) {
                add = s->agent ? s->agent : "the agent";
                skip = 7;
            } else if (strncmp(t, "{days}", 6) == 0) {
                int w = s->days ? snprintf(num, sizeof num, "%u", s->days) : 0;
                if (w < 0 || (size_t)w >= sizeof num)
                    return false;
                add = s->days ? num : "several";
                skip = 6;
            }
        }
        size_t n = add ? strlen(add) : 1;
        if (*o + n >= outsz)
            return false;
        memcpy(out + *o, add ? add : t, n);
        *o += n;
        out[*o] = '\0';
        t += skip;
    }
    return true;
}

/* Index among the entries of theme th in tab[0..n), chosen by r; any
 * entry when none has that theme. */
static size_t pick(const struct tpl *tab, size_t n, unsigned th, uint64_t r)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += tab[i].theme == th;
    if (!m)
        return (size_t)(r % n);
    size_t k = (size_t)(r % m);
    for (size_t i = 0; i < n; i++)
        if (tab[i].theme == th && k-- == 0)
            return i;
    return 0;
}

int demo_text_comment(enum demo_band b, enum demo_theme t, uint64_t r,
                      const struct demo_slots *s, char *out, size_t outsz)
{
    if (!outsz)
        return CXM_ETOOBIG;
    out[0] = '\0';
    if ((unsigned)b >= DEMO_BAND_COUNT)
        b = DEMO_MIXED;
    size_t i = pick(bands[b].t, bands[b].n, (unsigned)t, r);
    size_t o = 0;
    return fill(bands[b].t[i].text, s, out, outsz, &o) ? CXM_OK : CXM_ETOOBIG;
}

int demo_text_chat(enum demo_theme t, bool resolved, uint64_t r,
                   const struct demo_slots *s, char *out, size_t outsz)
{
    if (!outsz)
        return CXM_ETOOBIG;
    out[0] = '\0';
    size_t n = sizeof chat_open / sizeof chat_open[0];
    size_t i = pick(chat_open, n, (unsigned)t, r);
    const char *end = resolved
        ? chat_resolved[pick(chat_resolved, sizeof chat_resolved / sizeof chat_resolved[0],
                             (unsigned)t, r >> 32)].text
        : chat_unresolved[(r >> 32) % (sizeof chat_unresolved / sizeof chat_unresolved[0])];
    size_t o = 0;
    return fill(chat_open[i].text, s, out, outsz, &o) &&
           fill(end, s, out, outsz, &o) ? CXM_OK : CXM_ETOOBIG;
}

/* ---- folding names to ASCII ---------------------------------------------- */

/* Two-byte UTF-8 Latin-1 letters (lead byte 0xC3) and their ASCII base,
 * indexed by the second byte minus 0x80; 0 drops the character. */
static const char latin1_base[64] = {
    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
    'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   's',
    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
    'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   'y',
};

size_t demo_text_fold(const char *s, char *out, size_t outsz)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    while (*p && o + 1 < outsz) {
        char c = 0;
        if (*p >= 'A' && *p <= 'Z')
            c = (char)(*p - 'A' + 'a');
        else if (*p >= 'a' && *p <= 'z')
            c = (char)*p;
        else if (*p == 0xC3 && p[1] >= 0x80 && p[1] < 0xC0)
            c = latin1_base[p[1] - 0x80];
        else if (*p == 0xC5 && (p[1] == 0x9F || p[1] == 0x9E))  /* ş Ş */
            c = 's';
        if (*p >= 0x80) {   /* skip the whole multi-byte character */
            p++;
            while ((*p & 0xC0) == 0x80)
                p++;
        } else {
            p++;
        }
        if (c)
            out[o++] = c;
    }
    if (outsz)
        out[o] = '\0';
    return o;
}
