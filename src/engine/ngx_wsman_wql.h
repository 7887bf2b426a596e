/*
 * WQL, the filter dialect WinRM clients send with Enumerate
 * (Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL"):
 *
 *     SELECT * | prop[, prop...] FROM Class [WHERE condition]
 *
 * Keywords and identifiers are case-insensitive.  A condition combines
 * predicates with NOT, AND and OR (binding in that order, tightest
 * first) and parentheses.  A predicate is one of
 *
 *     prop op value       op: =  <>  !=  <  >  <=  >=
 *     value op prop       the same, read from the property's side
 *     prop [NOT] LIKE 'pattern'
 *     prop IS [NOT] NULL
 *
 * where a value is a string in single or double quotes, an integer
 * (-12), a decimal (3.25) or TRUE/FALSE.  Inside a string a backslash
 * escapes a backslash or either quote and nothing else; doubling a quote
 * is not an escape.  WQL has no property-to-property comparisons.
 *
 * LIKE patterns: % matches any run of characters, _ exactly one, [abc]
 * and [a-c] one of a set, [^abc] one outside it; a ] right after [ or
 * [^ belongs to the set.  All text comparisons ignore ASCII case.
 *
 * The property's type decides how a predicate compares: UINT, SINT and
 * REAL properties compare numerically with a number or a string that
 * reads as one (so '10' > '9' on a number, not on a string); DATETIME
 * compares numerically (epoch seconds) with a number and as its
 * xs:dateTime text otherwise; BOOL with TRUE/FALSE, 'true'/'false' or
 * 0/1 (false < true); everything else compares the property's text with
 * the value's text.
 *
 * The class schema is not known here, so a property the instance does
 * not carry is taken as nil, as if the provider had sent xsi:nil.  A nil
 * property satisfies only IS NULL: every comparison and LIKE on it is
 * false, and so is its negation with <>.  NOT negates the outcome (two
 * valued logic).  A name the instance repeats (an array) satisfies a
 * predicate when any of its non-nil values does; IS NULL holds when it
 * has no non-nil value.
 *
 * Limits: the query is at most NGX_WSMAN_WQL_MAX_LEN bytes, parentheses
 * and NOTs nest at most NGX_WSMAN_WQL_MAX_DEPTH deep, and a condition
 * has at most NGX_WSMAN_WQL_MAX_TERMS predicates.  Error positions count
 * bytes from 0 in the text as given.
 */

#ifndef _NGX_WSMAN_WQL_H_INCLUDED_
#define _NGX_WSMAN_WQL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_wsman_instance.h"


#define NGX_WSMAN_WQL_DIALECT                                               \
    "http://schemas.microsoft.com/wbem/wsman/1/WQL"

#define NGX_WSMAN_WQL_MAX_LEN     8192
#define NGX_WSMAN_WQL_MAX_DEPTH   32
#define NGX_WSMAN_WQL_MAX_TERMS   256


typedef struct ngx_wsman_wql_s  ngx_wsman_wql_t;


/*
 * NGX_OK; NGX_DECLINED on a syntax error, with *error a pool-allocated
 * message such as "expected FROM at position 9"; NGX_ERROR when out of
 * memory.  The parsed query refers to nothing outside the pool: the
 * text may be freed or reused once this returns.
 */
ngx_int_t ngx_wsman_wql_parse(ngx_pool_t *pool, ngx_str_t *text,
    ngx_wsman_wql_t **wql, ngx_str_t *error);

/* the class after FROM, as written */
ngx_str_t *ngx_wsman_wql_class(ngx_wsman_wql_t *wql);

/* the selected property names (ngx_str_t, as written); NULL for * */
ngx_array_t *ngx_wsman_wql_properties(ngx_wsman_wql_t *wql);

/*
 * 1 when the instance satisfies the WHERE condition (always, without
 * one), 0 when it does not, NGX_ERROR when out of memory.  The class is
 * not compared: the caller picked the provider by it.
 */
ngx_int_t ngx_wsman_wql_match(ngx_wsman_wql_t *wql,
    ngx_wsman_instance_t *inst, ngx_pool_t *pool);


#endif /* _NGX_WSMAN_WQL_H_INCLUDED_ */
