import { SetMetadata } from '@nestjs/common';

export const ROLES_KEY = 'bridgekeeper:roles';
export const ADMIN_ROLE = 'ADMIN';

/** Requires every listed role on the authenticated principal. */
export const RequireRoles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);
