#include "unit.h"
void unit_test_engine(void);
void unit_test_engine(void) {}
