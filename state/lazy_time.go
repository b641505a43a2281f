package state

import "time"

// utcTime reads the timestamp literal at b[i] when it is written as
// time.Time's MarshalJSON writes a UTC time, "2006-01-02T15:04:05Z" with
// up to nine digits of fraction, and returns the time and the literal's
// end; ok false for anything else (another zone, more digits, a date out
// of range), which time.Time's own UnmarshalJSON then reads. Its result is
// the value UnmarshalJSON gives the same bytes (parseRFC3339: each field
// in range, time.Date in UTC), made without time.Date's normalisation:
// three timestamps a letter were a tenth of a plan-only load's work.
// FuzzUTCTime compares the two.
func utcTime(b []byte, i int) (t time.Time, end int, ok bool) {
	const layout = `"2006-01-02T15:04:05`
	if len(b)-i < len(layout)+2 || b[i] != '"' {
		return t, 0, false
	}
	s := b[i+1:]
	_ = s[20] // len(s) >= 21: no bounds check below
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return t, 0, false
	}
	year, ok1 := digits2(s[0], s[1])
	year2, ok2 := digits2(s[2], s[3])
	month, ok3 := digits2(s[5], s[6])
	day, ok4 := digits2(s[8], s[9])
	hour, ok5 := digits2(s[11], s[12])
	minute, ok6 := digits2(s[14], s[15])
	sec, ok7 := digits2(s[17], s[18])
	year = year*100 + year2
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || month < 1 || month > 12 || day < 1 || day > daysInMonth(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return t, 0, false
	}
	j := 19
	nsec := 0
	if s[j] == '.' {
		k := j + 1
		for k < len(s) && k-j <= 9 && '0' <= s[k] && s[k] <= '9' {
			nsec = nsec*10 + int(s[k]-'0')
			k++
		}
		if k == j+1 || k < len(s) && '0' <= s[k] && s[k] <= '9' {
			return t, 0, false // no digit, or more than nine
		}
		for range 9 - (k - j - 1) {
			nsec *= 10
		}
		j = k
	}
	if len(s)-j < 2 || s[j] != 'Z' || s[j+1] != '"' {
		return t, 0, false
	}
	// Days since 1970-01-01 of the proleptic Gregorian date (Hinnant's
	// days_from_civil), as time.Date counts them.
	y := year
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	doy := (153*((month+9)%12)+2)/5 + day - 1
	days := era*146097 + yoe*365 + yoe/4 - yoe/100 + doy - 719468
	unix := int64(days)*86400 + int64(hour*3600+minute*60+sec)
	return time.Unix(unix, int64(nsec)).UTC(), i + 1 + j + 2, true
}

// digits2 reads two decimal digits.
func digits2(a, b byte) (int, bool) {
	a, b = a-'0', b-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

// daysInMonth is the number of days of month (1-12) in year.
func daysInMonth(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
