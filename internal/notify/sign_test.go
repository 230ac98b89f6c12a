package notify

import (
	"net/netip"
	"testing"
	"time"
)

// TestSignStandardVector signs the example of the Standard Webhooks
// specification's reference libraries and wants their signature.
func TestSignStandardVector(t *testing.T) {
	got, err := Sign([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	two, err := Sign([]string{NewSigningSecret(), NewSigningSecret()}, "msg_1", time.Unix(1, 0), []byte("{}"))
	if err != nil || len(two) != 2*len("v1,")+2*44+1 {
		t.Errorf("two secrets: %q %v", two, err)
	}
	if _, err := Sign([]string{"whsec_c2hvcnQ="}, "m", time.Now(), nil); err == nil {
		t.Error("a short secret signs")
	}
}

func TestForbiddenAddresses(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"127.0.0.1", true}, {"10.1.2.3", true}, {"172.16.0.1", true}, {"192.168.1.1", true},
		{"169.254.169.254", true}, {"100.100.100.200", true}, {"0.0.0.0", true}, {"::1", true},
		{"fd00:ec2::254", true}, {"fe80::1", true}, {"::ffff:127.0.0.1", true}, {"224.0.0.1", true},
		{"8.8.8.8", false}, {"2606:4700::1111", false}, {"93.184.216.34", false},
	} {
		if got := forbidden(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("forbidden(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	s := &Service{opts: Options{}}
	s.opts.defaults()
	prev := time.Duration(0)
	for n := 1; n <= 12; n++ {
		d := s.backoff(n)
		base := min(5*time.Second*time.Duration(pow3(n-1)), 4*time.Hour)
		if d < base*3/4 || d > base*5/4 {
			t.Errorf("attempt %d: %s, want within 25%% of %s", n, d, base)
		}
		if n <= 6 && d <= prev {
			t.Errorf("attempt %d: %s not above %s", n, d, prev)
		}
		prev = d
	}
}

func pow3(n int) int64 {
	x := int64(1)
	for range n {
		x *= 3
		if x > 1e6 {
			return 1e6
		}
	}
	return x
}
