package phases

import "testing"

// Every phase runs after phases registered before it, and no name is registered twice.
func TestRegistryOrderIsConsistent(t *testing.T) {
	if err := All.Check(); err != nil {
		t.Fatal(err)
	}
}
