package simulator

// name is a name as written (native) and the ASCII form used in user principal names.
type name struct{ native, ascii string }

// culture is a naming tradition: its names, the usage location of its users, and how a display name
// is composed (surname first, with or without a space).
type culture struct {
	country      string
	weight       int // relative frequency among seeded users
	surnameFirst bool
	separator    string
	given        []name
	surnames     []name
}

func plain(names ...string) []name {
	out := make([]name, len(names))
	for i, n := range names {
		out[i] = name{n, n}
	}
	return out
}

// cultures are the seed generator's name pools: mostly plain Latin names, some with diacritics, some in
// non-Latin scripts, so that display names exercise Unicode while UPNs stay ASCII as Entra requires.
var cultures = []culture{
	{country: "US", weight: 40, separator: " ",
		given: plain("James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
			"Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
			"Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Sandra"),
		surnames: plain("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
			"Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris",
			"Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "O'Brien")},
	{country: "GB", weight: 15, separator: " ",
		given:    plain("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "Charlie", "Sophie"),
		surnames: plain("Evans", "Roberts", "Hughes", "Edwards", "Green", "Hill", "Wood", "Turner", "Baker", "Cooper")},
	{country: "FR", weight: 8, separator: " ",
		given: []name{{"François", "francois"}, {"Hélène", "helene"}, {"Jérôme", "jerome"}, {"Zoë", "zoe"},
			{"Noémie", "noemie"}, {"Amélie", "amelie"}, {"Gaëtan", "gaetan"}, {"Lucas", "lucas"}},
		surnames: []name{{"Lefèvre", "lefevre"}, {"Côté", "cote"}, {"Dubois", "dubois"}, {"Gérard", "gerard"},
			{"Bérénger", "berenger"}, {"Moreau", "moreau"}}},
	{country: "DE", weight: 6, separator: " ",
		given: []name{{"Jürgen", "juergen"}, {"Björn", "bjoern"}, {"Günther", "guenther"}, {"Jörg", "joerg"},
			{"Käthe", "kaethe"}, {"Anna", "anna"}},
		surnames: []name{{"Müller", "mueller"}, {"Schröder", "schroeder"}, {"Weiß", "weiss"}, {"Krüger", "krueger"},
			{"Schmidt", "schmidt"}}},
	{country: "ES", weight: 6, separator: " ",
		given: []name{{"José", "jose"}, {"María", "maria"}, {"Íñigo", "inigo"}, {"Ángela", "angela"},
			{"Raúl", "raul"}},
		surnames: []name{{"Núñez", "nunez"}, {"Peña", "pena"}, {"Martínez", "martinez"}, {"Gómez", "gomez"}}},
	{country: "PL", weight: 4, separator: " ",
		given:    []name{{"Łukasz", "lukasz"}, {"Małgorzata", "malgorzata"}, {"Wojciech", "wojciech"}, {"Zofia", "zofia"}},
		surnames: []name{{"Wiśniewski", "wisniewski"}, {"Zając", "zajac"}, {"Kowalczyk", "kowalczyk"}}},
	{country: "SE", weight: 3, separator: " ",
		given:    []name{{"Åsa", "asa"}, {"Søren", "soren"}, {"Ingrid", "ingrid"}},
		surnames: []name{{"Ångström", "angstrom"}, {"Løvås", "lovas"}, {"Lindqvist", "lindqvist"}}},
	{country: "CN", weight: 5, surnameFirst: true,
		given:    []name{{"伟", "wei"}, {"芳", "fang"}, {"静", "jing"}, {"磊", "lei"}, {"洋", "yang"}},
		surnames: []name{{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"}, {"陈", "chen"}}},
	{country: "JP", weight: 4, surnameFirst: true, separator: " ",
		given:    []name{{"太郎", "taro"}, {"花子", "hanako"}, {"翔", "sho"}, {"美咲", "misaki"}},
		surnames: []name{{"田中", "tanaka"}, {"佐藤", "sato"}, {"鈴木", "suzuki"}, {"高橋", "takahashi"}}},
	{country: "KR", weight: 2, surnameFirst: true,
		given:    []name{{"민준", "minjun"}, {"서연", "seoyeon"}, {"지호", "jiho"}},
		surnames: []name{{"김", "kim"}, {"박", "park"}, {"이", "lee"}}},
	{country: "RU", weight: 3, separator: " ",
		given:    []name{{"Алексей", "aleksei"}, {"Ольга", "olga"}, {"Дмитрий", "dmitry"}, {"Наталья", "natalya"}},
		surnames: []name{{"Иванов", "ivanov"}, {"Смирнова", "smirnova"}, {"Кузнецов", "kuznetsov"}, {"Попова", "popova"}}},
	{country: "GR", weight: 2, separator: " ",
		given:    []name{{"Δημήτρης", "dimitris"}, {"Ελένη", "eleni"}, {"Νίκος", "nikos"}},
		surnames: []name{{"Παπαδόπουλος", "papadopoulos"}, {"Γεωργίου", "georgiou"}}},
	{country: "AE", weight: 2, separator: " ",
		given:    []name{{"محمد", "mohammed"}, {"فاطمة", "fatima"}, {"أحمد", "ahmed"}},
		surnames: []name{{"العلي", "alali"}, {"حسن", "hassan"}}},
}

// departments and their job titles; "Research & Development" keeps an ampersand in the data on purpose.
var departments = []struct {
	name   string
	titles []string
}{
	{"Sales", []string{"Account Executive", "Sales Manager", "Sales Representative"}},
	{"Marketing", []string{"Marketing Manager", "Content Strategist", "Brand Specialist"}},
	{"Finance", []string{"Financial Analyst", "Controller", "Accountant"}},
	{"Engineering", []string{"Software Engineer", "Senior Software Engineer", "Engineering Manager"}},
	{"Human Resources", []string{"HR Business Partner", "Recruiter"}},
	{"Legal", []string{"Legal Counsel", "Paralegal"}},
	{"Operations", []string{"Operations Manager", "Logistics Coordinator"}},
	{"IT", []string{"Systems Administrator", "Service Desk Analyst", "Cloud Architect"}},
	{"Research & Development", []string{"Research Scientist", "Lab Technician"}},
	{"Customer Support", []string{"Support Specialist", "Support Team Lead"}},
}

var offices = []string{"HQ 1/101", "HQ 2/210", "Remote", "Branch A", "Branch B"}
