/* gen.c - the comments of bench/text, deterministic: the same count and
 * seed give the same bytes on any machine (integer PRNG only).
 *
 *   gen N [SEED] > comments.txt
 *
 * writes N customer comments, one a line: survey answers, reviews, support
 * chats and tweets built from templates and a customer-experience
 * vocabulary. About 45% lean negative, 35% positive, 20% neutral; they mix
 * clauses with "but" and "and", negations and contractions (some with curly
 * apostrophes), boosters and dampeners, a word in ALL CAPS now and then,
 * '!' and '?' runs, emoticons and emoji (some glued to a word), order
 * numbers and times, and idioms ("waste of money", "on hold for"). Lines
 * are 15 to 170 bytes, 72 on average. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint64_t next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static unsigned pick(unsigned n)
{
    return (unsigned)(next() % n);
}

static bool chance(unsigned percent)
{
    return pick(100) < percent;
}

#define N(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))
#define ANY(a) ((a)[pick(N(a))])

static const char *const subject[] = {
    "the delivery", "your app", "the agent", "customer service", "the staff", "my order",
    "the refund", "the checkout", "the store", "the product", "the driver", "the website",
    "support", "the technician", "the hotel room", "the food", "the new update",
    "the call centre", "the chat bot", "the installer", "the booking process",
    "the return", "the replacement", "the manager", "the billing team", "the courier",
    "the waiter", "the onboarding", "the mobile app", "the packaging"};

static const char *const pos_pred[] = {
    "was great", "was really helpful", "arrived on time", "works perfectly", "was excellent",
    "is so easy to use", "was friendly and quick", "sorted everything out", "was amazing",
    "exceeded my expectations", "was fast and polite", "is a big improvement",
    "was brilliant", "made it painless", "was spot on", "was very professional",
    "was lovely", "did the job", "is worth every penny", "went above and beyond",
    "was smooth from start to finish", "fixed it in minutes", "was fantastic",
    "answered all my questions", "was good value"};

static const char *const neg_pred[] = {
    "was late", "was rude", "is useless", "keeps crashing", "never arrived",
    "was a waste of money", "was damaged", "took forever", "was a complete mess",
    "is so confusing", "was terrible", "ignored my emails", "charged me twice",
    "was really disappointing", "is painfully slow", "lost my parcel",
    "kept me on hold for 40 minutes", "was dirty", "broke after a week",
    "was unhelpful", "is a joke", "cancelled my booking", "was awful",
    "made it worse", "was overpriced"};

static const char *const neutral_pred[] = {
    "arrived on Tuesday", "was delivered to my neighbour", "is in the app",
    "was handled by email", "came in two boxes", "was picked up by DHL",
    "is listed under my account", "was moved to Friday", "was the 128GB model",
    "needs my postcode", "was paid by card", "was sent to my work address"};

static const char *const negated_pos[] = {
    "was not good", "wasn't helpful", "did not work", "isn't easy to use",
    "was not what I expected", "was not worth it", "didn't fix anything",
    "was not friendly", "doesn't work", "hasn't improved", "was not great",
    "is not reliable", "wasn't clear at all", "never responded"};

static const char *const negated_neg[] = {
    "was not bad", "wasn't a problem", "was not too slow", "didn't disappoint",
    "was never rude", "had no issues", "wasn't difficult", "was not a hassle"};

static const char *const booster[] = {"very", "really", "extremely", "so", "totally",
                                      "incredibly", "absolutely", "super"};
static const char *const dampener[] = {"slightly", "somewhat", "kind of", "a bit",
                                       "a little", "barely", "fairly"};
static const char *const pos_adj[] = {"helpful", "friendly", "quick", "good", "great",
                                      "easy", "polite", "reliable", "happy", "impressed"};
static const char *const neg_adj[] = {"slow", "rude", "late", "confusing", "annoying",
                                      "disappointing", "frustrating", "bad", "poor",
                                      "unreliable"};

static const char *const opener[] = {
    "", "", "", "", "", "Hi, ", "Honestly, ", "Well, ", "Ok so ", "Ugh. ", "Wow! ",
    "@ShopCo ", "Hello team, ", "Just wanted to say ", "FYI ", "Update: ", "Order #48213: ",
    "Third time writing: ", "Quick note, "};

static const char *const pos_tail[] = {
    "", "", "", "", " Thanks!", " Thank you so much.", " :)", " :-)", " 😊", " 👍",
    " ❤️", "!!", " Will order again.", " 10/10", " Keep it up!", " 🙌", " Highly recommend.",
    " Five stars.", " <3", "😍"};

static const char *const neg_tail[] = {
    "", "", "", "", " :(", " :-(", " 😡", " 😤", " 👎", "!!!", "??", " Never again.",
    " Not happy.", " Fix it please.", " #fail", " What a joke.", " Want my money back.",
    " Really disappointed.", " 🙄", "😭"};

static const char *const neutral_tail[] = {
    "", "", "", " Thanks.", " Please advise.", " Ref 55321.", "?", " Cheers."};

static const char *const detail[] = {
    "after 3 days", "on my second order", "last week", "this morning",
    "for order 77120", "at the Leeds branch", "on the phone", "over chat",
    "after the update", "on Saturday", "for the third time", "yesterday"};

struct out {
    char buf[1024];
    size_t n;
};

static void put(struct out *o, const char *s)
{
    size_t k = strlen(s);
    if (o->n + k < sizeof o->buf) {
        memcpy(o->buf + o->n, s, k);
        o->n += k;
    }
}

/* Appends s with its first letter upper-cased when cap. */
static void put_cap(struct out *o, const char *s, bool cap)
{
    size_t at = o->n;
    put(o, s);
    if (cap && at < o->n && o->buf[at] >= 'a' && o->buf[at] <= 'z')
        o->buf[at] = (char)(o->buf[at] - 'a' + 'A');
}

/* Writes word in ALL CAPS (ASCII). */
static void put_upper(struct out *o, const char *s)
{
    size_t at = o->n;
    put(o, s);
    for (size_t i = at; i < o->n; i++)
        if (o->buf[i] >= 'a' && o->buf[i] <= 'z')
            o->buf[i] = (char)(o->buf[i] - 'a' + 'A');
}

/* A clause of polarity pol (1 positive, -1 negative, 0 neutral). */
static void clause(struct out *o, int pol, bool cap)
{
    put_cap(o, ANY(subject), cap);
    put(o, " ");
    unsigned form = pick(10);
    if (pol == 0) {
        put(o, ANY(neutral_pred));
    } else if (form < 4) {
        put(o, pol > 0 ? ANY(pos_pred) : ANY(neg_pred));
    } else if (form < 6) {
        /* was [booster|dampener] ADJ, maybe in caps */
        put(o, chance(50) ? "was " : "is ");
        if (chance(60)) {
            put(o, chance(75) ? ANY(booster) : ANY(dampener));
            put(o, " ");
        }
        const char *adj = pol > 0 ? ANY(pos_adj) : ANY(neg_adj);
        if (chance(12))
            put_upper(o, adj);
        else
            put(o, adj);
    } else if (form < 8) {
        put(o, pol > 0 ? ANY(negated_neg) : ANY(negated_pos));
    } else {
        put(o, pol > 0 ? ANY(pos_pred) : ANY(neg_pred));
        put(o, " ");
        put(o, ANY(detail));
    }
}

static void comment(struct out *o)
{
    o->n = 0;
    unsigned r = pick(100);
    int pol = r < 45 ? -1 : r < 80 ? 1 : 0;
    put(o, ANY(opener));
    bool start = o->n == 0 || o->buf[o->n - 1] != ' ' || o->buf[o->n - 2] == '.' ||
                 o->buf[o->n - 2] == '!' || o->buf[o->n - 2] == ':';
    clause(o, pol, start);
    unsigned shape = pick(10);
    if (shape < 3) {
        /* contrast: the other polarity first, then ours */
        o->n = 0;
        put(o, ANY(opener));
        clause(o, -pol == 0 ? 1 : -pol, true);
        put(o, chance(80) ? " but " : ", although ");
        clause(o, pol, false);
    } else if (shape < 5) {
        put(o, " and ");
        clause(o, pol, false);
    } else if (shape < 7) {
        put(o, ". ");
        clause(o, pol, true);
    }
    if (chance(15))
        put(o, pol < 0 ? "!" : ".");
    else if (chance(10))
        put(o, pol < 0 ? "?!" : "!");
    else
        put(o, ".");
    const char *tail = pol > 0 ? ANY(pos_tail) : pol < 0 ? ANY(neg_tail) : ANY(neutral_tail);
    if ((tail[0] == '!' || tail[0] == '?') && o->buf[o->n - 1] == '.')
        o->n--;
    put(o, tail);
    /* curly apostrophes, as phones type them */
    if (chance(20)) {
        for (size_t i = 0; i < o->n; i++) {
            if (o->buf[i] == '\'' && o->n + 2 < sizeof o->buf) {
                memmove(o->buf + i + 3, o->buf + i + 1, o->n - i - 1);
                memcpy(o->buf + i, "\xE2\x80\x99", 3);
                o->n += 2;
            }
        }
    }
    o->buf[o->n++] = '\n';
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: gen N [SEED] > comments.txt\n");
        return 2;
    }
    char *end;
    unsigned long long n = strtoull(argv[1], &end, 10);
    if (*end || !n) {
        fprintf(stderr, "gen: N must be a positive integer\n");
        return 2;
    }
    rng_state = argc == 3 ? strtoull(argv[2], NULL, 10) : 20261122u;
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    struct out o;
    for (unsigned long long i = 0; i < n; i++) {
        comment(&o);
        if (fwrite(o.buf, 1, o.n, stdout) != o.n) {
            perror("gen");
            return 1;
        }
    }
    return fflush(stdout) ? 1 : 0;
}
