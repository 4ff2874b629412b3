import { Global, Module } from '@nestjs/common';
import { AuditService } from 'src/audit/audit.service';

/** The audit log (issue 13 §4): every domain module records its admin mutations and security events. */
@Global()
@Module({
  exports: [AuditService],
  providers: [AuditService],
})
export class AuditModule {}
