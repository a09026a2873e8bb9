#define BOOST_TEST_MODULE trimtab
#include <boost/test/unit_test.hpp>
