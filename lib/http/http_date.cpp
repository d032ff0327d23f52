// HTTP-date (RFC 9110 §5.6.7). No locale, no libc time conversion: civil dates are converted
// with the days-from-civil / civil-from-days algorithms (proleptic Gregorian calendar).
//
// Parsing is strict about the three grammars (HTTP-date is case-sensitive) and checks ranges:
// day within its month (leap years included), hour 0-23, minute 0-59, second 0-60 (a leap
// second, as IMF allows, counts as the next minute's first second). The day name must be a
// valid name but is not checked against the date, as other HTTP implementations do.
// RFC 850's two-digit year: RFC 9110 asks for "more than 50 years in the future means the
// previous century", which depends on the current time; this pure parser uses the fixed pivot
// yy >= 70 -> 19yy, else 20yy (the same answer for any current year from 2020 to 2069).
#include "http/http_date.hpp"

#include "core/ascii.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace perch::http {

namespace {

constexpr std::array<std::string_view, 7> day_names = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> long_day_names = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> month_names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr int64_t ms_per_day = 86400 * 1000;

constexpr bool is_leap(int64_t y) noexcept {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr int days_in_month(int64_t y, int m) noexcept {
    constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// Days since 1970-01-01 of y-m-d (m 1..12, d 1..31); H. Hinnant's days_from_civil.
constexpr int64_t days_from_civil(int64_t y, int m, int d) noexcept {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct Civil {
    int64_t year;
    int month, day;
};

// The inverse of days_from_civil.
constexpr Civil civil_from_days(int64_t z) noexcept {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int d = int(doy - (153 * mp + 2) / 5 + 1);
    const int m = int(mp < 10 ? mp + 3 : mp - 9);
    return {yoe + era * 400 + (m <= 2), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(civil_from_days(11017).year == 2000 && civil_from_days(11017).month == 3);

// A cursor over the input; every reader fails (returns false) without consuming on mismatch.
class Reader {
public:
    explicit Reader(std::string_view s) noexcept : s_(s) {}
    bool done() const noexcept { return pos_ == s_.size(); }

    bool literal(std::string_view lit) noexcept {
        if (s_.substr(pos_, lit.size()) != lit) return false;
        pos_ += lit.size();
        return true;
    }
    // Exactly n digits.
    bool digits(size_t n, int &out) noexcept {
        if (s_.size() - pos_ < n) return false;
        int v = 0;
        for (size_t i = 0; i < n; ++i) {
            char c = s_[pos_ + i];
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        pos_ += n;
        out = v;
        return true;
    }
    // One of `names` (case-sensitive); its index in out.
    template <size_t N>
    bool one_of(const std::array<std::string_view, N> &names, int &out) noexcept {
        for (size_t i = 0; i < N; ++i)
            if (literal(names[i])) {
                out = int(i);
                return true;
            }
        return false;
    }

private:
    std::string_view s_;
    size_t pos_ = 0;
};

struct Fields {
    int64_t year = 0;
    int month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

// time-of-day = hour ":" minute ":" second
bool read_time(Reader &r, Fields &f) noexcept {
    return r.digits(2, f.hour) && r.literal(":") && r.digits(2, f.minute) && r.literal(":") &&
           r.digits(2, f.second);
}

// IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT; date1 = day SP month SP year
bool read_imf_fixdate(std::string_view s, Fields &f) noexcept {
    Reader r(s);
    int wday = 0, month = 0, year = 0;
    bool ok = r.one_of(day_names, wday) && r.literal(", ") && r.digits(2, f.day) &&
              r.literal(" ") && r.one_of(month_names, month) && r.literal(" ") &&
              r.digits(4, year) && r.literal(" ") && read_time(r, f) && r.literal(" GMT") &&
              r.done();
    f.month = month + 1;
    f.year = year;
    return ok;
}

// rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT; date2 = day "-" month "-" 2DIGIT
bool read_rfc850_date(std::string_view s, Fields &f) noexcept {
    Reader r(s);
    int wday = 0, month = 0, yy = 0;
    bool ok = r.one_of(long_day_names, wday) && r.literal(", ") && r.digits(2, f.day) &&
              r.literal("-") && r.one_of(month_names, month) && r.literal("-") && r.digits(2, yy) &&
              r.literal(" ") && read_time(r, f) && r.literal(" GMT") && r.done();
    f.month = month + 1;
    f.year = yy >= 70 ? 1900 + yy : 2000 + yy;
    return ok;
}

// asctime-date = day-name SP date3 SP time-of-day SP year
// date3 = month SP ( 2DIGIT / ( SP DIGIT ) )
bool read_asctime_date(std::string_view s, Fields &f) noexcept {
    Reader r(s);
    int wday = 0, month = 0, year = 0;
    bool ok = r.one_of(day_names, wday) && r.literal(" ") && r.one_of(month_names, month) &&
              r.literal(" ") && (r.digits(2, f.day) || (r.literal(" ") && r.digits(1, f.day))) &&
              r.literal(" ") && read_time(r, f) && r.literal(" ") && r.digits(4, year) && r.done();
    f.month = month + 1;
    f.year = year;
    return ok;
}

bool in_range(const Fields &f) noexcept {
    return f.month >= 1 && f.month <= 12 && f.day >= 1 && f.day <= days_in_month(f.year, f.month) &&
           f.hour <= 23 && f.minute <= 59 && f.second <= 60;
}

void write_2digits(char *out, int v) noexcept {
    out[0] = char('0' + v / 10);
    out[1] = char('0' + v % 10);
}

} // namespace

std::optional<core::UnixMillis> parse_http_date(std::string_view s) {
    s = core::trim_ows(s);
    Fields f;
    if (!read_imf_fixdate(s, f) && !read_rfc850_date(s, f) && !read_asctime_date(s, f))
        return std::nullopt;
    if (!in_range(f)) return std::nullopt;
    int64_t days = days_from_civil(f.year, f.month, f.day);
    int64_t secs = int64_t(f.hour) * 3600 + f.minute * 60 + f.second;
    // A leap second at the very end of 9999 would be in year 10000, which no HTTP-date can
    // write: it stays at 9999's last second, so every parsed date formats back to itself.
    constexpr int64_t last_second_ms = days_from_civil(10000, 1, 1) * ms_per_day - 1000;
    return std::min(days * ms_per_day + secs * 1000, last_second_ms);
}

size_t format_http_date(core::UnixMillis t, char out[http_date_length]) {
    // Years 0000..9999 are what four digits can write; later or earlier times are clamped.
    constexpr int64_t min_ms = days_from_civil(0, 1, 1) * ms_per_day;
    constexpr int64_t max_ms = days_from_civil(10000, 1, 1) * ms_per_day - 1;
    if (t < min_ms) t = min_ms;
    if (t > max_ms) t = max_ms;
    int64_t days = t / ms_per_day;
    int64_t ms_of_day = t % ms_per_day;
    if (ms_of_day < 0) {
        ms_of_day += ms_per_day;
        --days;
    }
    const int64_t secs = ms_of_day / 1000;
    const Civil c = civil_from_days(days);
    const int64_t wday = ((days % 7) + 7 + 4) % 7; // 1970-01-01 was a Thursday
    const auto year = int(c.year);

    // "Sun, 06 Nov 1994 08:49:37 GMT": fill the fixed characters, then the fields.
    std::memcpy(out, "ddd, DD mmm YYYY HH:MM:SS GMT", http_date_length);
    std::memcpy(out, day_names[size_t(wday)].data(), 3);
    write_2digits(out + 5, c.day);
    std::memcpy(out + 8, month_names[size_t(c.month - 1)].data(), 3);
    write_2digits(out + 12, year / 100);
    write_2digits(out + 14, year % 100);
    write_2digits(out + 17, int(secs / 3600));
    write_2digits(out + 20, int(secs / 60 % 60));
    write_2digits(out + 23, int(secs % 60));
    return http_date_length;
}

} // namespace perch::http
