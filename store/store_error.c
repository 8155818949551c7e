/* store_error: the kinds of store failures and their one mapping to IMAP
 * response codes and to sysexits (store.h). */
#include "store/store-private.h"

#include <errno.h>
#include <sysexits.h>

enum store_error store_error_code(const struct store *store)
{
	return store->error_code;
}

enum store_error store_errno_code(int errnum)
{
	switch (errnum) {
	case ENOSPC:
	case EDQUOT:
		return STORE_ERR_NO_SPACE;
	case EACCES:
	case EPERM:
		return STORE_ERR_NOT_PERMITTED;
	case EROFS:
		return STORE_ERR_READ_ONLY;
	case EEXIST:
		return STORE_ERR_EXISTS;
	case EFBIG:
		return STORE_ERR_TOO_BIG;
	case ENAMETOOLONG:
		return STORE_ERR_BAD_NAME;
	default:
		return STORE_ERR_INTERNAL;
	}
}

const char *store_error_imap(enum store_error err, bool target)
{
	switch (err) {
	case STORE_OK:
	case STORE_ERR_CANCELLED:
		return NULL;
	case STORE_ERR_NO_FOLDER:
		return target ? "TRYCREATE" : "NONEXISTENT";
	case STORE_ERR_NO_MESSAGE:
		return "EXPUNGEISSUED";
	case STORE_ERR_EXISTS:
		return "ALREADYEXISTS";
	case STORE_ERR_NO_SPACE:
		return "OVERQUOTA";
	case STORE_ERR_LOCKED:
		return "INUSE";
	case STORE_ERR_TOO_BIG:
		return "TOOBIG";
	case STORE_ERR_LIMIT:
		return "LIMIT";
	case STORE_ERR_BAD_NAME:
		return "CANNOT";
	case STORE_ERR_NOT_PERMITTED:
	case STORE_ERR_READ_ONLY:
		return "NOPERM";
	case STORE_ERR_CORRUPT:
		return "CORRUPTION";
	case STORE_ERR_INTERNAL:
		break;
	}
	return "SERVERBUG";
}

int store_error_sysexit(enum store_error err)
{
	switch (err) {
	case STORE_OK:
		return EX_OK;
	case STORE_ERR_NO_FOLDER:
	case STORE_ERR_EXISTS:
	case STORE_ERR_BAD_NAME:
	case STORE_ERR_LIMIT:
		return EX_CANTCREAT;
	case STORE_ERR_NOT_PERMITTED:
	case STORE_ERR_READ_ONLY:
		return EX_NOPERM;
	case STORE_ERR_TOO_BIG:
		return EX_DATAERR;
	default:
		return EX_TEMPFAIL;
	}
}
