import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC_KEY = 'bridgekeeper:isPublic';

/** Marks a route or resolver as reachable without a token. Everything else requires one. */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
