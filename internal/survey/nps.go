package survey

// NPSOfCounts is the NPS of answers counted by score: counts[s] answers
// gave score s (0 to 10).
func NPSOfCounts(counts [11]int64) NPSSummary {
	var n NPSSummary
	for score, c := range counts {
		switch Group(score) {
		case "promoter":
			n.Promoters += int(c)
		case "passive":
			n.Passives += int(c)
		default:
			n.Detractors += int(c)
		}
		n.Responses += int(c)
	}
	n.finish()
	return n
}
