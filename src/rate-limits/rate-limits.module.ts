import { Global, Module } from '@nestjs/common';
import { RateLimitsService } from 'src/rate-limits/rate-limits.service';

/** Rate limits over the shared cache (issue 13 §3); used by the OAuth endpoints and the sign-in pages. */
@Global()
@Module({
  exports: [RateLimitsService],
  providers: [RateLimitsService],
})
export class RateLimitsModule {}
